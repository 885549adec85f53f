package feedguard.jvm;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import org.apache.spark.sql.api.java.UDF1;

/**
 * The fast path's flag for one JSON record, in one streaming pass: true unless the record is certainly
 * one JSON object whose every member the typed parse shows as written.
 *
 * <p>It is conservative: false only when the text is a single object (nothing before or after it), every
 * key is a field of the object the contract describes (exact case, at most once), every value is
 * written as the JSON type its field expects (a string for string, timestamp and date fields, an integer
 * for integer and long fields, a number without exponent for decimal and double fields, true or false
 * for boolean fields, an object for a struct, an array for an array, or null; arrays hold no null), and
 * no string holds NUL, U+FFFD (an invalid UTF-8 byte, decoded) or a lone surrogate. Anything else,
 * a parse error included, flags the record; the exact checks then name what is wrong.
 *
 * <p>The contract's shape comes in as a descriptor built by {@code feedguard.parse.jvm_flag}.
 */
public final class JsonRecordFlag implements UDF1<String, Boolean> {
  private static final long serialVersionUID = 1L;

  private final Shape record;
  private transient JsonFactory factory;

  public JsonRecordFlag(String descriptor) {
    this.record = Shape.parse(descriptor);
  }

  private JsonFactory factory() {
    if (factory == null) {
      factory = new JsonFactory(); // strict defaults: no single quotes, NaN, comments or raw control chars
    }
    return factory;
  }

  @Override
  public Boolean call(String raw) {
    if (raw == null) {
      return true;
    }
    int n = raw.length();
    if (n < 2 || raw.charAt(0) != '{' || raw.charAt(n - 1) != '}' || oddChars(raw)) {
      return true;
    }
    try (JsonParser parser = factory().createParser(raw)) {
      if (parser.nextToken() != JsonToken.START_OBJECT || !objectMatches(parser, record)) {
        return true;
      }
      return parser.nextToken() != null;
    } catch (IOException | RuntimeException e) {
      return true;
    }
  }

  /** NUL, U+FFFD or a surrogate that is not half of a pair. */
  static boolean oddChars(String text) {
    for (int i = 0, n = text.length(); i < n; i++) {
      char c = text.charAt(i);
      if (c == 0 || c == '\uFFFD') {
        return true;
      }
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= n || !Character.isLowSurrogate(text.charAt(i + 1))) {
          return true;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  /** After START_OBJECT: true when every member fits {@code shape}; the parser ends on END_OBJECT. */
  private static boolean objectMatches(JsonParser parser, Shape shape) throws IOException {
    long seen = 0L;
    JsonToken token;
    while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
      String key = parser.getCurrentName();
      int index = shape.indexOf(key);
      if (index < 0 || (seen & (1L << index)) != 0 || oddChars(key)) {
        return false;
      }
      seen |= 1L << index;
      if (!valueMatches(parser, parser.nextToken(), shape.children[index], false)) {
        return false;
      }
    }
    return token == JsonToken.END_OBJECT;
  }

  private static boolean valueMatches(JsonParser parser, JsonToken token, Shape shape, boolean inArray)
      throws IOException {
    if (token == JsonToken.VALUE_NULL) {
      return !inArray;
    }
    switch (shape.kind) {
      case Shape.TEXT:
        return token == JsonToken.VALUE_STRING && !oddChars(parser.getText());
      case Shape.INTEGER:
        return token == JsonToken.VALUE_NUMBER_INT && parser.getNumberType() == JsonParser.NumberType.INT;
      case Shape.LONG:
        return token == JsonToken.VALUE_NUMBER_INT
            && (parser.getNumberType() == JsonParser.NumberType.INT
                || parser.getNumberType() == JsonParser.NumberType.LONG);
      case Shape.NUMBER:
        return (token == JsonToken.VALUE_NUMBER_INT || token == JsonToken.VALUE_NUMBER_FLOAT)
            && noExponent(parser.getText());
      case Shape.BOOLEAN:
        return token == JsonToken.VALUE_TRUE || token == JsonToken.VALUE_FALSE;
      case Shape.STRUCT:
        return token == JsonToken.START_OBJECT && objectMatches(parser, shape);
      case Shape.ARRAY:
        if (token != JsonToken.START_ARRAY) {
          return false;
        }
        JsonToken element;
        while ((element = parser.nextToken()) != JsonToken.END_ARRAY) {
          if (element == null || !valueMatches(parser, element, shape.children[0], true)) {
            return false;
          }
        }
        return true;
      default:
        return false;
    }
  }

  private static boolean noExponent(String number) {
    return number.indexOf('e') < 0 && number.indexOf('E') < 0;
  }
}
