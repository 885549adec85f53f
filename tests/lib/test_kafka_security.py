"""TLS and SASL/SCRAM for the Kafka clients (Amazon MSK): the exact options each client gets, credentials
from the environment or Secrets Manager (a real moto server), never from argv and never in a repr or a log."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from tests.support.moto_server import MotoEndpoint, running_moto_server

from feedguard.errors import EnvironmentProblem, UsageError
from feedguard.kafka.config import KafkaFeed, feed_security, kafka_feed
from feedguard.kafka.credentials import secret_reader
from feedguard.kafka.security import NO_SECURITY, KafkaSecurity, SaslCredentials, kafka_security
from feedguard.runtime.args import KAFKA_JOB_ARGS, resolve_args

PASSWORD = 'pa"ss\\wörd-4f1c'  # a quote and a backslash, escaped in the JAAS line
ENV = {"FEEDGUARD_KAFKA_SASL_USERNAME": "feedguard", "FEEDGUARD_KAFKA_SASL_PASSWORD": PASSWORD}
REQUIRED = ["job.py", "--source", "foodnow", "--dataset", "order_events", "--bootstrap_servers",
            "b-1.msk:9096", "--topic", "orders", "--lake_path", "lake"]  # fmt: skip
JAAS = (
    'org.apache.kafka.common.security.scram.ScramLoginModule required username="feedguard" '
    'password="pa\\"ss\\\\wörd-4f1c";'
)


def test_plaintext_is_the_default_and_adds_no_option() -> None:
    opts = resolve_args(REQUIRED, KAFKA_JOB_ARGS)

    assert feed_security(opts, {}) == NO_SECURITY == KafkaSecurity("PLAINTEXT")
    assert (NO_SECURITY.spark_options(), NO_SECURITY.client_options()) == ({}, {})


def test_tls_alone() -> None:
    security = kafka_security("ssl", None, environ={})

    assert security.spark_options() == {"kafka.security.protocol": "SSL"}
    assert security.client_options() == {"security_protocol": "SSL"}


def test_sasl_scram_from_the_environment_gives_both_clients_their_exact_options() -> None:
    opts = resolve_args([*REQUIRED, "--kafka_security_protocol", "SASL_SSL"], KAFKA_JOB_ARGS)

    security = feed_security(opts, ENV)

    assert security == KafkaSecurity("SASL_SSL", "SCRAM-SHA-512", SaslCredentials("feedguard", PASSWORD))
    assert security.spark_options() == {
        "kafka.security.protocol": "SASL_SSL",
        "kafka.sasl.mechanism": "SCRAM-SHA-512",
        "kafka.sasl.jaas.config": JAAS,
    }
    assert security.client_options() == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "feedguard",
        "sasl_plain_password": PASSWORD,
    }


def test_the_password_is_in_no_repr_and_no_log_line(caplog: pytest.LogCaptureFixture) -> None:
    opts = resolve_args([*REQUIRED, "--kafka_security_protocol", "SASL_SSL"], KAFKA_JOB_ARGS)
    feed = kafka_feed(opts, feed_security(opts, ENV))
    caplog.set_level(logging.DEBUG)

    logging.getLogger("feedguard.kafka.job").info("feed %s, options %s", feed, opts)

    assert feed == KafkaFeed(
        "b-1.msk:9096", "orders", "feedguard-foodnow-order_events", security=feed.security
    )
    assert "SASL_SSL" in repr(feed) and "SCRAM-SHA-512" in repr(feed)
    for text in (repr(feed), str(feed.security), repr(feed.security.credentials), caplog.text, str(opts)):
        assert PASSWORD not in text and 'pa"ss' not in text


def test_credentials_never_come_from_argv() -> None:
    assert not [name for name in KAFKA_JOB_ARGS.names if "password" in name or "username" in name]
    with pytest.raises(UsageError, match="kafka_sasl_password"):
        resolve_args([*REQUIRED, "--kafka_sasl_password", PASSWORD], KAFKA_JOB_ARGS)


@pytest.mark.parametrize(
    ("protocol", "mechanism", "environ", "secret_id", "message"),
    [
        ("SASL_PLAINTEXT", None, {}, None, "expected one of PLAINTEXT, SSL, SASL_SSL"),
        ("SSL", "SCRAM-SHA-512", {}, None, "need --kafka_security_protocol SASL_SSL"),
        ("PLAINTEXT", None, {}, "AmazonMSK_x", "need --kafka_security_protocol SASL_SSL"),
        ("SASL_SSL", "AWS_MSK_IAM", ENV, None, "aws-msk-iam-auth jar"),
        ("SASL_SSL", "OAUTHBEARER", ENV, None, "aws-msk-iam-auth jar"),
        ("SASL_SSL", "GSSAPI", ENV, None, "expected one of SCRAM-SHA-512, SCRAM-SHA-256"),
        ("SASL_SSL", None, {}, None, "needs credentials"),
        (
            "SASL_SSL",
            None,
            {"FEEDGUARD_KAFKA_SASL_USERNAME": "u"},
            None,
            "FEEDGUARD_KAFKA_SASL_PASSWORD is not",
        ),
    ],
)
def test_wrong_settings_are_usage_errors_that_name_the_setting(
    protocol: str, mechanism: str | None, environ: dict[str, str], secret_id: str | None, message: str
) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        kafka_security(protocol, mechanism, environ=environ, secret_id=secret_id, read_secret=lambda _: "{}")
    assert PASSWORD not in str(caught.value)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoEndpoint]:
    with running_moto_server() as endpoint:
        yield endpoint


def test_credentials_from_the_msk_secret_in_secrets_manager(moto: MotoEndpoint) -> None:
    client = moto.client("secretsmanager")
    moto.reset()
    secret = json.dumps({"username": "feedguard", "password": PASSWORD})
    client.create_secret(Name="AmazonMSK_foodnow", SecretString=secret)
    client.create_secret(Name="AmazonMSK_bad", SecretString=f"password={PASSWORD}")
    read = secret_reader({}, client)
    opts = resolve_args(
        [*REQUIRED, "--kafka_security_protocol", "SASL_SSL", "--kafka_secret_id", "AmazonMSK_foodnow"],
        KAFKA_JOB_ARGS,
    )

    assert feed_security(opts, {}, read).spark_options()["kafka.sasl.jaas.config"] == JAAS
    assert (
        feed_security(opts, ENV | {"FEEDGUARD_KAFKA_SASL_USERNAME": "env"}, read).client_options()[
            "sasl_plain_username"
        ]
        == "env"
    )  # the environment comes first; the secret is not read
    for secret_id, error in [("AmazonMSK_bad", 'must be JSON {"username"'), ("missing", "ResourceNotFound")]:
        with pytest.raises(UsageError, match=error) as caught:
            kafka_security("SASL_SSL", None, environ={}, secret_id=secret_id, read_secret=read)
        assert PASSWORD not in str(caught.value) and secret_id in str(caught.value)


def test_a_denied_secret_is_an_environment_problem() -> None:
    from botocore.exceptions import ClientError

    class Denied:
        def get_secret_value(self, SecretId: str) -> dict[str, str]:
            raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "GetSecretValue")

    with pytest.raises(EnvironmentProblem, match="secretsmanager:GetSecretValue"):
        secret_reader({}, Denied())("AmazonMSK_foodnow")
