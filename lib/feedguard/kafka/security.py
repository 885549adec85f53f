"""How the Kafka clients reach the brokers: PLAINTEXT (local), TLS, or TLS with SASL/SCRAM (Amazon MSK).

One :class:`KafkaSecurity` value gives both clients their settings: :meth:`KafkaSecurity.spark_options`
for Spark's Kafka source (``kafka.*`` options) and :meth:`KafkaSecurity.client_options` for kafka-python's
consumer and admin client. The SASL user name and password come from the environment
(``FEEDGUARD_KAFKA_SASL_USERNAME``/``FEEDGUARD_KAFKA_SASL_PASSWORD``) or from an AWS Secrets Manager secret
named by ``--kafka_secret_id`` (MSK's SCRAM secret: JSON ``{"username": ..., "password": ...}``), never from
the command line; the password is left out of every ``repr`` and error message.

Example::

    security = kafka_security("SASL_SSL", None, environ=os.environ, secret_id="AmazonMSK_foodnow",
                              read_secret=secret_reader(os.environ))  # feedguard.kafka.credentials
    spark.read.format("kafka").options(**options, **security.spark_options())
    KafkaConsumer(bootstrap_servers=bootstrap, **security.client_options())
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from feedguard.errors import UsageError

PLAINTEXT: Final = "PLAINTEXT"
SSL: Final = "SSL"
SASL_SSL: Final = "SASL_SSL"
PROTOCOLS: Final = (PLAINTEXT, SSL, SASL_SSL)
SCRAM_SHA_512: Final = "SCRAM-SHA-512"  # what MSK's SASL/SCRAM authentication speaks
SASL_MECHANISMS: Final = (SCRAM_SHA_512, "SCRAM-SHA-256")
# MSK IAM authentication needs the aws-msk-iam-auth jar (Spark) and a token signer (Python): not bundled.
IAM_MECHANISMS: Final = ("AWS_MSK_IAM", "OAUTHBEARER")
SCRAM_LOGIN_MODULE: Final = "org.apache.kafka.common.security.scram.ScramLoginModule"
USERNAME_ENV: Final = "FEEDGUARD_KAFKA_SASL_USERNAME"
PASSWORD_ENV: Final = "FEEDGUARD_KAFKA_SASL_PASSWORD"
SECRET_KEYS: Final = ("username", "password")  # the JSON of an MSK SCRAM secret


@dataclass(frozen=True)
class SaslCredentials:
    """A SASL user name and password (the password never shows in ``repr``)."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class KafkaSecurity:
    """The protocol, the SASL mechanism and the credentials of the feed's brokers (PLAINTEXT by default)."""

    protocol: str = PLAINTEXT
    mechanism: str | None = None
    credentials: SaslCredentials | None = field(default=None, repr=False)

    def spark_options(self) -> dict[str, str]:
        """``kafka.*`` options for Spark's Kafka source (none for PLAINTEXT, Kafka's default)."""
        if self.protocol == PLAINTEXT:
            return {}
        options = {"kafka.security.protocol": self.protocol}
        if self.protocol == SASL_SSL:
            username, password = self._sasl()
            options["kafka.sasl.mechanism"] = str(self.mechanism)
            options["kafka.sasl.jaas.config"] = (
                f'{SCRAM_LOGIN_MODULE} required username="{_jaas(username)}" password="{_jaas(password)}";'
            )
        return options

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python's ``KafkaConsumer`` and ``KafkaAdminClient``."""
        if self.protocol == PLAINTEXT:
            return {}
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.protocol == SASL_SSL:
            username, password = self._sasl()
            options.update(
                sasl_mechanism=self.mechanism, sasl_plain_username=username, sasl_plain_password=password
            )
        return options

    def _sasl(self) -> tuple[str, str]:
        if self.credentials is None or self.mechanism is None:
            raise UsageError(f"{SASL_SSL} needs a SASL mechanism and credentials")
        return self.credentials.username, self.credentials.password


def _jaas(value: str) -> str:
    """A value inside a double-quoted JAAS option (Kafka's parser reads backslash escapes)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def kafka_security(
    protocol: str | None,
    mechanism: str | None,
    *,
    environ: Mapping[str, str],
    secret_id: str | None = None,
    read_secret: Callable[[str], str] | None = None,
) -> KafkaSecurity:
    """The checked settings of ``--kafka_security_protocol``, ``--kafka_sasl_mechanism`` and
    ``--kafka_secret_id`` (bad values: exit 2). Credentials: the environment first, else the secret's text,
    ``read_secret(secret_id)`` (:func:`feedguard.kafka.credentials.secret_reader`: Secrets Manager).

    >>> kafka_security("ssl", None, environ={})
    KafkaSecurity(protocol='SSL', mechanism=None)
    """
    chosen = (protocol or PLAINTEXT).strip().upper()
    if chosen not in PROTOCOLS:
        raise UsageError(f"--kafka_security_protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")
    if chosen != SASL_SSL:
        if mechanism or secret_id:
            raise UsageError(
                f"--kafka_sasl_mechanism and --kafka_secret_id need --kafka_security_protocol {SASL_SSL}"
            )
        return KafkaSecurity(chosen)
    sasl = (mechanism or SCRAM_SHA_512).strip().upper()
    if sasl in IAM_MECHANISMS:
        raise UsageError(
            f"--kafka_sasl_mechanism {sasl}: MSK IAM authentication needs the aws-msk-iam-auth jar, which "
            f"this build does not ship; use {SCRAM_SHA_512} (docs/operations.md, the Kafka section)"
        )
    if sasl not in SASL_MECHANISMS:
        raise UsageError(
            f"--kafka_sasl_mechanism {mechanism!r}: expected one of {', '.join(SASL_MECHANISMS)}"
        )
    return KafkaSecurity(SASL_SSL, sasl, sasl_credentials(environ, secret_id, read_secret))


def sasl_credentials(
    environ: Mapping[str, str], secret_id: str | None, read_secret: Callable[[str], str] | None
) -> SaslCredentials:
    """From ``FEEDGUARD_KAFKA_SASL_USERNAME``/``_PASSWORD``, else from the secret; none at all: exit 2."""
    username, password = environ.get(USERNAME_ENV, ""), environ.get(PASSWORD_ENV, "")
    if username and password:
        return SaslCredentials(username, password)
    if username or password:
        missing = PASSWORD_ENV if username else USERNAME_ENV
        raise UsageError(f"{USERNAME_ENV} and {PASSWORD_ENV} go together: {missing} is not set")
    if not secret_id:
        raise UsageError(
            f"--kafka_security_protocol {SASL_SSL} needs credentials: set {USERNAME_ENV} and {PASSWORD_ENV}, "
            "or name the Secrets Manager secret with --kafka_secret_id"
        )
    if read_secret is None:
        raise UsageError(f"secret {secret_id!r} given without a way to read it")
    return secret_credentials(secret_id, read_secret(secret_id))


def secret_credentials(secret_id: str, text: str) -> SaslCredentials:
    """The credentials in a secret's JSON text (errors name the secret, never its content)."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) and data[k] for k in SECRET_KEYS):
        raise UsageError(f'the Kafka secret {secret_id!r} must be JSON {{"username": ..., "password": ...}}')
    return SaslCredentials(data["username"], data["password"])


NO_SECURITY: Final = KafkaSecurity()  # PLAINTEXT, the default of every client
