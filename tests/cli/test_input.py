"""The command's input and its error paths: every argument is validated while parsing, with a
message that names the flag and the rule; every outcome, usage errors included, is exit status
2 with one message and, with --json, exactly one JSON document on stdout."""

from __future__ import annotations

import io
import json

import pytest

from logzio_s3_archive_runtime.cli import EXIT_NO_VERDICT, build_parser, main

from .conftest import STALE_KEY_STACK, UNKNOWN_KEY_ID, VERSIONED, probe_objects


def call(*argv: str):
    """main() in-process with exactly these arguments (no defaults added): (code, out, err)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def only_document(text: str) -> dict:
    """stdout holds exactly one JSON document, and nothing else."""
    document, end = json.JSONDecoder().raw_decode(text)
    assert text[end:].strip() == "", f"more than one document on stdout: {text!r}"
    return document


# ----------------------------------------------------------------------------- --endpoint-url

@pytest.mark.parametrize("url", [
    "notaurl", "localhost:5000", "ftp://localhost:5000", "http://", "http://:5000", "https:///path",
    "http://local host:5000", "http://localhost:port", "http://localhost:99999", "//localhost:5000",
])
def test_endpoint_url_must_be_an_http_url_with_a_host(url):
    code, out, err = call("check", "--bucket", VERSIONED, "--endpoint-url", url)
    assert code == EXIT_NO_VERDICT
    assert f"argument --endpoint-url: {url!r} is not" in err, err
    assert "e.g. http://localhost:5000" in err
    assert "unexpectedly" not in err and out == ""


def test_endpoint_url_message_names_the_rule():
    _, _, err = call("check", "--bucket", VERSIONED, "--endpoint-url", "notaurl")
    assert ("argument --endpoint-url: 'notaurl' is not a URL: give scheme and host, "
            "e.g. http://localhost:5000") in err


@pytest.mark.parametrize("url", [
    "http://localhost:5000", "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:5000/",
    "http://[::1]:5000", "HTTPS://S3.amazonaws.com", "https://proxy.example.com/s3",
])
def test_endpoint_urls_accepted(url):
    args = build_parser().parse_args(["check", "--bucket", VERSIONED, "--endpoint-url", url])
    assert args.endpoint_url == url


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"])
def test_endpoint_url_from_the_environment_is_checked_too(run, monkeypatch, variable):
    monkeypatch.setenv(variable, "notaurl")
    result = run("--bucket", VERSIONED, "--profile", "full", endpoint=False)
    assert result.code == EXIT_NO_VERDICT
    assert f"{variable} 'notaurl' is not a URL" in result.err, result.err
    assert "unexpectedly" not in result.err


# ----------------------------------------------------------------------------- --bucket

@pytest.mark.parametrize("name, rule", [
    ("Bad_Name!", "may contain only lowercase letters, digits, dots and hyphens"),
    ("has space", "may contain only lowercase letters, digits, dots and hyphens"),
    ("ab", "must be 3 to 63 characters long"),
    ("a" * 256, "must be 3 to 63 characters long"),
    ("-logs", "must begin and end with a letter or digit"),
    ("logs-", "must begin and end with a letter or digit"),
    ("logs..archive", "must not contain two adjacent dots"),
    ("192.168.5.4", "must not be formatted as an IP address"),
    ("xn--logs", "must not start with xn--"),
    ("sthree-logs", "must not start with sthree-"),
    ("amzn-s3-demo-logs", "must not start with amzn-s3-demo-"),
    ("logs-s3alias", "must not end with -s3alias"),
    ("logs--ol-s3", "must not end with --ol-s3"),
    ("logs.mrap", "must not end with .mrap"),
    ("logs--usw2-az1--x-s3", "must not end with --x-s3"),
    ("logs--table-s3", "must not end with --table-s3"),
    ("s3://Bad_Name!/", "may contain only lowercase letters, digits, dots and hyphens"),
])
def test_bucket_must_follow_the_s3_naming_rules(name, rule):
    code, out, err = call("check", f"--bucket={name}", "--endpoint-url", "http://localhost:5000")
    assert code == EXIT_NO_VERDICT
    assert f"argument --bucket: {name!r} is not an S3 bucket name: it {rule}" in err, err
    assert "reach AWS" not in err and out == ""


@pytest.mark.parametrize("given, name", [
    ("my-logzio-archive", "my-logzio-archive"), ("a.b-c.1", "a.b-c.1"), ("abc", "abc"),
    ("x" * 63, "x" * 63), ("s3://my-logzio-archive", "my-logzio-archive"),
    ("s3://my-logzio-archive/", "my-logzio-archive"),
    ("logs-111122223333-us-west-2-an", "logs-111122223333-us-west-2-an"),  # account regional namespace
    # A bucket created in us-east-1 before March 2018 may have capitals, underscores and up
    # to 255 characters: it still exists, and Logz.io may archive to it.
    ("Legacy_Logs", "Legacy_Logs"), ("legacy-" + "x" * 100, "legacy-" + "x" * 100),
])
def test_bucket_names_accepted(given, name):
    assert build_parser().parse_args(["check", "--bucket", given]).bucket == name


def test_bucket_with_a_path_is_still_refused():
    _, _, err = call("check", "--bucket", "s3://bucket/sub/path")
    assert "argument --bucket: 's3://bucket/sub/path' has a path" in err


# ----------------------------------------------------------------------------- --json

USAGE_ERRORS = {
    "no target": (["check", "--json"], "one of the arguments --bucket --stack is required"),
    "both targets": (["check", "--json", "--bucket", "b12", "--stack", "s"], "not allowed with"),
    "bad bucket": (["check", "--json", "--bucket", "Bad_Name!"], "argument --bucket:"),
    "bad endpoint": (["check", "--bucket", "b12", "--endpoint-url", "notaurl", "--json"],
                     "argument --endpoint-url:"),
    "unknown argument": (["check", "--bucket", "b12", "--json", "--colour"], "unrecognized arguments: --colour"),
    "bad seconds": (["check", "--bucket", "b12", "--settle-seconds", "-1", "--json"], "argument --settle-seconds:"),
    "missing value": (["check", "--json", "--bucket"], "argument --bucket: expected one argument"),
    "no command": (["--json"], "the following arguments are required: COMMAND"),
    "unknown command": (["chek", "--json"], "invalid choice: 'chek'"),
    "abbreviated --json": (["check", "--js"], "one of the arguments --bucket --stack is required"),
}


@pytest.mark.parametrize("argv, message", USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
def test_json_usage_errors_print_one_document(argv, message):
    code, out, err = call(*argv)
    assert code == EXIT_NO_VERDICT
    doc = only_document(out)
    assert doc["ok"] is False and doc["exit_code"] == EXIT_NO_VERDICT
    assert message in doc["error"]["what"], doc
    assert "--help" in doc["error"]["fix"]
    assert doc["error"]["error_code"] is None
    assert doc["checks"] == [] and doc["notes"] == []
    assert message in err  # a person reading the terminal still sees it


def test_usage_error_without_json_prints_nothing_on_stdout():
    code, out, err = call("check", "--bucket", "Bad_Name!")
    assert code == EXIT_NO_VERDICT and out == ""
    assert err.startswith("usage: ") and "error: argument --bucket:" in err


def test_help_stays_plain_text(capsys):
    assert main(["check", "--help", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("usage: ") and "exit status:" in captured.out
    assert captured.err == ""


def test_json_no_verdict_error_is_one_document_with_notes(run):
    result = run("--bucket", "logzio-archive-does-not-exist", "--profile", "admin", "--json")
    assert result.code == EXIT_NO_VERDICT
    doc = only_document(result.out)
    assert doc["ok"] is False and doc["exit_code"] == EXIT_NO_VERDICT
    assert doc["error"]["error_code"] == "NoSuchBucket" and doc["notes"] == []


def test_json_unexpected_crash_is_one_document(run, monkeypatch):
    from logzio_s3_archive_runtime import cli

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "run_probe", explode)
    result = run("--bucket", VERSIONED, "--profile", "full", "--json")
    assert result.code == EXIT_NO_VERDICT
    doc = only_document(result.out)
    assert doc["error"]["what"] == "The check failed unexpectedly: RuntimeError: boom."


# ----------------------------------------------------------------------------- notes on error paths

STALE_NOTE = f"the secret holds access key {UNKNOWN_KEY_ID}, not the stack's "


def test_stack_note_is_printed_when_the_check_then_fails(run, emulator):
    result = run("--stack", STALE_KEY_STACK, "--profile", "admin")
    assert result.code == EXIT_NO_VERDICT
    assert "InvalidAccessKeyId" in result.err
    lines = result.out.splitlines()
    assert lines[-1].startswith(f"Could not check bucket {VERSIONED}: AWS rejects the credentials")
    notes = [line for line in lines if line.startswith("note: ")]
    assert len(notes) == 1 and notes[0].startswith("note: " + STALE_NOTE), result.out
    assert emulator.keys["full"][0] in notes[0]
    assert probe_objects(emulator, VERSIONED) == []


def test_stack_note_is_in_the_json_when_the_check_then_fails(run):
    result = run("--stack", STALE_KEY_STACK, "--profile", "admin", "--json")
    assert result.code == EXIT_NO_VERDICT
    doc = only_document(result.out)
    assert doc["error"]["error_code"] == "InvalidAccessKeyId"
    assert doc["stack"] == STALE_KEY_STACK
    assert len(doc["notes"]) == 1 and doc["notes"][0].startswith(STALE_NOTE)


def test_endpoint_url_from_the_profile_is_no_crash(run, monkeypatch, tmp_path):
    config = tmp_path / "config"
    config.write_text("[profile full]\nendpoint_url = notaurl\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    result = run("--bucket", VERSIONED, "--profile", "full", endpoint=False)
    assert result.code == EXIT_NO_VERDICT
    assert "An endpoint URL in your AWS configuration is not a URL (Invalid endpoint: notaurl)" in result.err
    assert "~/.aws/config" in result.err and "unexpectedly" not in result.err
