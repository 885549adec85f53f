package feedguard.jvm;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a contract expects of a JSON value, parsed from a descriptor (written by
 * {@code feedguard.parse.jvm_flag.descriptor}):
 *
 * <pre>
 *   value  := kind | kind "{" member ("," member)* "}" | "array" "[" value "]"
 *   member := name ":" value
 *   kind   := "text" | "integer" | "long" | "number" | "boolean" | "struct" | "other"
 * </pre>
 *
 * Field names are identifiers (the contract checks them), so the descriptor needs no escaping.
 */
final class Shape implements Serializable {
  private static final long serialVersionUID = 1L;

  static final int TEXT = 0;
  static final int INTEGER = 1;
  static final int LONG = 2;
  static final int NUMBER = 3;
  static final int BOOLEAN = 4;
  static final int STRUCT = 5;
  static final int ARRAY = 6;
  static final int OTHER = 7;
  private static final String[] KINDS = {"text", "integer", "long", "number", "boolean", "struct", "array", "other"};

  final int kind;
  final Shape[] children;
  private final Map<String, Integer> index;

  private Shape(int kind, List<String> names, List<Shape> children) {
    this.kind = kind;
    this.children = children.toArray(new Shape[0]);
    this.index = new HashMap<>();
    for (int i = 0; i < names.size(); i++) {
      index.put(names.get(i), i);
    }
  }

  int indexOf(String name) {
    Integer found = index.get(name);
    return found == null ? -1 : found;
  }

  static Shape parse(String descriptor) {
    int[] at = {0};
    Shape shape = value(descriptor, at);
    if (at[0] != descriptor.length()) {
      throw new IllegalArgumentException("trailing text in shape descriptor at " + at[0] + ": " + descriptor);
    }
    if (shape.kind != STRUCT) {
      throw new IllegalArgumentException("a record's shape must be a struct: " + descriptor);
    }
    if (shape.children.length > 64) {
      throw new IllegalArgumentException("more than 64 fields in one object: " + descriptor);
    }
    return shape;
  }

  private static Shape value(String text, int[] at) {
    int start = at[0];
    while (at[0] < text.length() && Character.isLetter(text.charAt(at[0]))) {
      at[0]++;
    }
    String word = text.substring(start, at[0]);
    int kind = -1;
    for (int i = 0; i < KINDS.length; i++) {
      if (KINDS[i].equals(word)) {
        kind = i;
      }
    }
    if (kind < 0) {
      throw new IllegalArgumentException("unknown kind '" + word + "' in shape descriptor: " + text);
    }
    List<String> names = new ArrayList<>();
    List<Shape> children = new ArrayList<>();
    if (kind == STRUCT) {
      expect(text, at, '{');
      while (true) {
        int colon = text.indexOf(':', at[0]);
        names.add(text.substring(at[0], colon));
        at[0] = colon + 1;
        children.add(value(text, at));
        if (text.charAt(at[0]) == '}') {
          break;
        }
        expect(text, at, ',');
      }
      expect(text, at, '}');
      if (children.size() > 64) {
        throw new IllegalArgumentException("more than 64 fields in one object: " + text);
      }
    } else if (kind == ARRAY) {
      expect(text, at, '[');
      children.add(value(text, at));
      expect(text, at, ']');
    }
    return new Shape(kind, names, children);
  }

  private static void expect(String text, int[] at, char c) {
    if (at[0] >= text.length() || text.charAt(at[0]) != c) {
      throw new IllegalArgumentException("expected '" + c + "' at " + at[0] + " in shape descriptor: " + text);
    }
    at[0]++;
  }
}
