"""The hand-off to Logz.io's API end to end: the real `cdk deploy` (change sets) and
`cdk destroy` against the session's emulator and its embedded Logz.io API
(emulator.logzio_api.LogzioApiServer, one per Logz.io account, so the stacks run in
parallel without sharing Logz.io's one archive setting).

Four stacks at once: keys (registered, then rotated with keySerial while a watcher samples
which key Logz.io holds against the user's active keys, then destroyed: the setting is
disabled); a role trusted with Logz.io's external id (registered); a role whose trust names
another external id (our probe passes, Logz.io's test fails the deploy); a bad token (fails
with Logz.io's 401 and the fix). The API token lives only in a Secrets Manager secret made
beforehand; the stacks get its name.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from emulator.logzio_api import LogzioApiServer
from tests.e2e.support import outputs, stack_of
from tests.e2e.test_day_two import assembly, deploy, destroy, failed_reasons

pytestmark = pytest.mark.e2e

BASE = {"settleSeconds": "0", "watchSchedule": "off"}
KEYS, ROLE, TRUST, TOKEN = "E2eLogzioKeys", "E2eLogzioRole", "E2eLogzioTrust", "E2eLogzioToken"


def events(emu, stack) -> list[dict]:
    found = emu.client("cloudformation").describe_stack_events(StackName=stack)["StackEvents"]
    return sorted(found, key=lambda e: e["Timestamp"])


class KeyWatcher:
    """Samples, every 50 ms, the key Logz.io holds and the user's active keys (read before
    and after it): a held key in neither list was deleted while Logz.io still used it."""

    def __init__(self, emu, server, user):
        self.emu, self.server, self.user = emu, server, user
        self.samples: list[tuple[float, str | None, set, set]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _keys(self, iam) -> set:
        return {k["AccessKeyId"] for k in iam.list_access_keys(UserName=self.user)["AccessKeyMetadata"]
                if k["Status"] == "Active"}

    def _run(self):
        iam = self.emu.client("iam")
        while not self._stop.is_set():
            before = self._keys(iam)
            held = self.server.held()
            after = self._keys(iam)
            self.samples.append((time.time(), held, before, after))
            self._stop.wait(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)


def run_keys(emu, server, directories) -> dict:
    seen = {"first": deploy(emu, directories["first"], KEYS)}
    if seen["first"][0] != 0:
        return seen
    seen["first-outputs"] = outputs(emu, KEYS)
    seen["held-after-first"] = server.held()
    seen["history-before-rotation"] = len(server.history)
    with KeyWatcher(emu, server, seen["first-outputs"]["UserName"]) as watcher:
        seen["rotation"] = deploy(emu, directories["rotated"], KEYS)
    seen["samples"] = watcher.samples
    seen["rotation-outputs"] = outputs(emu, KEYS)
    seen["user-keys"] = emu.client("iam").list_access_keys(
        UserName=seen["first-outputs"]["UserName"])["AccessKeyMetadata"]
    seen["rotation-events"] = events(emu, KEYS)
    seen["destroy"] = destroy(emu, directories["rotated"], KEYS)
    return seen


def run_one(emu, directory, stack) -> dict:
    code, log = deploy(emu, directory, stack)
    return {"deploy": (code, log), "status": stack_of(emu, stack)["StackStatus"],
            "reasons": failed_reasons(emu, stack), "events": events(emu, stack),
            "outputs": outputs(emu, stack) if code == 0 else {}}


@pytest.fixture(scope="session")
def handoff(bootstrapped, tmp_path_factory):
    emu = bootstrapped
    servers = {name: LogzioApiServer(emu, token=f"token-{name.lower()}-0123456789abcdef")
               for name in (KEYS, ROLE, TRUST, TOKEN)}
    secrets = emu.client("secretsmanager")
    for name, server in servers.items():
        server.start()
        # The bad-token stack's secret holds a token Logz.io does not know.
        value = "not-the-token" if name == TOKEN else server.token
        secrets.create_secret(Name=f"e2e/{name}/logzio-api-token", SecretString=value)

    def context(name, **more):
        return {**BASE, "stackName": name, "logzioApiTokenSecret": f"e2e/{name}/logzio-api-token",
                "logzioApiUrl": servers[name].url, **more}

    def role(name, external_id):
        return {"principal": "role", "logzioAccountId": servers[name].account_id, "externalId": external_id}

    keys = context(KEYS, bucketName="acme-e2e-logzio-keys")
    directories = {
        "first": assembly(tmp_path_factory, emu, "logzio-keys", keys),
        "rotated": assembly(tmp_path_factory, emu, "logzio-keys-rotated", {**keys, "keySerial": "2"}),
        ROLE: assembly(tmp_path_factory, emu, "logzio-role", context(
            ROLE, bucketName="acme-e2e-logzio-role", **role(ROLE, servers[ROLE].external_id))),
        TRUST: assembly(tmp_path_factory, emu, "logzio-trust", context(
            TRUST, bucketName="acme-e2e-logzio-trust", **role(TRUST, "logzio:aws:extid:not-logzios-id"))),
        TOKEN: assembly(tmp_path_factory, emu, "logzio-token", context(TOKEN, bucketName="acme-e2e-logzio-token")),
    }
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            keys_seen = pool.submit(run_keys, emu, servers[KEYS], directories)
            others = {name: pool.submit(run_one, emu, directories[name], name) for name in (ROLE, TRUST, TOKEN)}
            seen = {KEYS: keys_seen.result(), **{name: future.result() for name, future in others.items()}}
        yield seen, servers
    finally:
        for server in servers.values():
            server.stop()


def test_keys_are_registered_and_tested_by_logzio(handoff):
    seen, servers = handoff
    keys = seen[KEYS]
    code, log = keys["first"]
    assert code == 0, log
    found = keys["first-outputs"]
    server = servers[KEYS]
    assert list(server.settings) == [int(found["LogzioArchiveSettingsId"])]  # one setting, ours
    assert found["LogzioTest"].startswith("passed: Logz.io wrote logzio-verified to acme-e2e-logzio-keys")
    assert keys["held-after-first"] == found["AccessKeyId"]
    first = server.changes[0]
    assert (first["operation"], first["path"], first["principal"], first["enabled"]) == (
        "create", "acme-e2e-logzio-keys", found["AccessKeyId"], True)
    # Logz.io's test ran as the key, before the setting was saved.
    assert server.tests[0]["ok"] and server.tests[0]["principal"] == found["AccessKeyId"]
    assert server.tests[0]["time"] <= first["time"]


def test_the_token_is_in_no_output_or_event(handoff):
    seen, servers = handoff
    for name in (KEYS, ROLE, TRUST, TOKEN):
        token = servers[name].token
        text = json.dumps(seen[name].get("first-outputs") or seen[name].get("outputs") or {})
        text += json.dumps([e.get("ResourceStatusReason", "") for e in seen[name].get("events", [])])
        text += (seen[name].get("first") or seen[name].get("deploy"))[1]
        assert token not in text, name


def test_rotation_keeps_logzio_on_an_active_key_throughout(handoff):
    seen, servers = handoff
    keys, server = seen[KEYS], servers[KEYS]
    code, log = keys["rotation"]
    assert code == 0, log
    old, new = keys["first-outputs"]["AccessKeyId"], keys["rotation-outputs"]["AccessKeyId"]
    assert old != new
    # Logz.io now holds the new key, tested as that key, and the old key is gone.
    assert [k["AccessKeyId"] for k in keys["user-keys"]] == [new]
    assert keys["rotation-outputs"]["LogzioArchiveSettingsId"] == keys["first-outputs"]["LogzioArchiveSettingsId"]
    assert keys["rotation-outputs"]["LogzioTest"].startswith("passed")
    assert any(t["ok"] and t["principal"] == new for t in server.tests)
    # Every sample: the key Logz.io held was an active key of the user.
    samples = keys["samples"]
    assert len(samples) > 10
    bad = [(t, held) for t, held, before, after in samples if held not in before and held not in after]
    assert bad == [], bad
    assert {held for _, held, _, _ in samples} == {old, new}
    # Logz.io switched to the new key before CloudFormation deleted the old one (cleanup).
    switched = next(t for t, principal in server.history if principal == new)
    deleted = [e["Timestamp"].timestamp() for e in keys["rotation-events"]
               if e["ResourceType"] == "AWS::IAM::AccessKey" and e["ResourceStatus"] == "DELETE_COMPLETE"
               and e["PhysicalResourceId"] == old]
    assert len(deleted) == 1 and switched <= deleted[0] + 1.0  # event timestamps may be rounded to the second
    last_old = max(t for t, held, _, _ in samples if held == old)
    first_gone = min(t for t, _, before, after in samples if old not in before)
    assert last_old < first_gone


def test_stack_delete_disables_the_setting(handoff):
    seen, servers = handoff
    code, log = seen[KEYS]["destroy"]
    assert code == 0, log
    server = servers[KEYS]
    settings_id = int(seen[KEYS]["rotation-outputs"]["LogzioArchiveSettingsId"])
    assert server.settings[settings_id]["enabled"] is False
    last = server.changes[-1]
    assert (last["operation"], last["enabled"], last["path"]) == ("update", False, "acme-e2e-logzio-keys")


def test_a_role_is_registered_and_logzio_assumes_it_with_its_external_id(handoff):
    seen, servers = handoff
    role = seen[ROLE]
    assert role["deploy"][0] == 0, role["deploy"][1]
    found, server = role["outputs"], servers[ROLE]
    assert found["LogzioTest"].startswith("passed")
    [stored] = server.settings.values()
    assert stored["amazonS3StorageSettings"]["credentialsType"] == "IAM"
    assert stored["amazonS3StorageSettings"]["s3IamCredentials"]["arn"] == found["RoleArn"]
    assert server.held() == found["RoleArn"]
    assert [t["ok"] for t in server.tests] == [True]


def test_a_role_without_logzios_external_id_fails_at_logzios_test_after_our_probe_passed(handoff):
    seen, servers = handoff
    trust = seen[TRUST]
    assert trust["deploy"][0] != 0
    assert trust["status"] == "ROLLBACK_COMPLETE"
    assert "CREATE_COMPLETE" in statuses_of(trust["events"], "PermissionProbe9")  # our probe passed
    reasons = trust["reasons"]
    assert "Logz.io hand-off failed" in reasons and "HTTP 400" in reasons, reasons
    assert "Failed to assume role" in reasons and servers[TRUST].external_id in reasons
    assert "sts:ExternalId" in reasons  # the fix
    assert servers[TRUST].settings == {}  # a failed test saves nothing


def statuses_of(found, prefix) -> list[str]:
    return [e["ResourceStatus"] for e in found if e["LogicalResourceId"].startswith(prefix)
            and e["ResourceType"] == "Custom::LogzioArchiveProbe"]


def test_a_bad_token_fails_the_deploy_with_a_clear_message(handoff):
    seen, servers = handoff
    bad = seen[TOKEN]
    assert bad["deploy"][0] != 0
    assert bad["status"] == "ROLLBACK_COMPLETE"
    reasons = bad["reasons"]
    assert "HTTP 401" in reasons and "the API token is wrong" in reasons, reasons
    assert "not-the-token" not in reasons and "not-the-token" not in bad["deploy"][1]
    assert servers[TOKEN].settings == {}
