"""What `toxictl enable --dry-run` prints, checked by third-party tools on a real control plane.

The built `toxictl` runs its dry run against a fresh namespace of the loopback harness
(`../shared/kube-harness`, Kubernetes 1.20) that holds a Deployment `edge-endpoint`, then:

- every manifest validates against the Kubernetes 1.30 OpenAPI schemas in strict mode (PyPI
  `kubernetes-validate`, which ships the schemas: no network);
- every manifest is accepted by `kubectl apply --server-side --dry-run=server --field-manager=toxictl`;
- the routing patch is accepted by a server-side dry-run `kubectl patch` and keeps the user's alias;
- the text form is multi-document YAML (PyYAML) whose documents equal the JSON form's;
- nothing was created and the Deployment was not changed (same generation, same pod template).

Skipped, saying why, unless `KUBE_HARNESS_KUBECONFIG` names the harness's admin kubeconfig (`.ci/run`
exports it). The binary: `TOXICTL_BIN`, else `toxictl` beside `TOXIPROXY_SERVER_BIN` (`scripts/test`
exports it), else `.build/debug/toxictl`.

Every call has a deadline. The namespace is deleted at the end (without waiting).
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TOXICTL_BIN = REPO_ROOT / ".build" / "debug" / "toxictl"

KUBERNETES_SCHEMA_VERSION = "1.30.0"
KUBECTL_DEADLINE_S = 30.0
KUBECTL_REQUEST_TIMEOUT = "20s"
TOXICTL_DEADLINE_S = 60.0

DEPLOYMENT = "edge-endpoint"
MANAGED_BY = "app.kubernetes.io/managed-by=toxictl"
ROUTING_ANNOTATION = "toxictl.dev/routing"
# The user's own alias on the target Deployment: the routing patch must leave it alone.
USER_ALIAS = {"ip": "127.3.0.9", "hostnames": ["registry.internal.example"]}
TWO_HOSTS = ["api.groundlight.ai:443", "files.example.com:8443"]
PLACEHOLDER = re.compile(r"^<ClusterIP of Service ([a-z0-9-]+)>$")
CALLS_HEADER = "# the API calls, in order:"


# --------------------------------------------------------------------------- helpers


def kubectl(kubeconfig: str, *args: str, input_text: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
    argv = ["kubectl", "--kubeconfig", kubeconfig, f"--request-timeout={KUBECTL_REQUEST_TIMEOUT}", *args]
    result = subprocess.run(argv, input=input_text, capture_output=True, text=True,
                            timeout=KUBECTL_DEADLINE_S, stdin=None if input_text is not None else subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {result.returncode}:\n{result.stderr}{result.stdout}")
    return result


def kubectl_json(kubeconfig: str, *args: str):
    return json.loads(kubectl(kubeconfig, *args, "-o", "json").stdout)


def object_ref(manifest: dict) -> str:
    return f"{manifest['kind']}/{manifest['metadata']['name']}"


def toxictl_binary() -> Path:
    explicit = os.environ.get("TOXICTL_BIN")
    if explicit:
        binary = Path(explicit)
    elif os.environ.get("TOXIPROXY_SERVER_BIN"):
        binary = Path(os.environ["TOXIPROXY_SERVER_BIN"]).parent / "toxictl"
    else:
        binary = DEFAULT_TOXICTL_BIN
    if not binary.is_file() or not os.access(binary, os.X_OK):
        pytest.fail(f"toxictl binary not found or not executable: {binary} (set TOXICTL_BIN)")
    return binary


def run_toxictl(binary: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    # Only the flags choose the cluster and the namespace: nothing inherited from the environment.
    env = {key: value for key, value in os.environ.items()
           if key not in ("KUBECONFIG", "DEPLOYMENT_NAMESPACE", "TOXIPROXY_URL")}
    argv = [str(binary), *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=TOXICTL_DEADLINE_S,
                            stdin=subprocess.DEVNULL, cwd=cwd, env=env)
    assert result.returncode == 0, (f"{' '.join(argv)} exited {result.returncode}:\n"
                                    f"stderr:\n{result.stderr}\nstdout:\n{result.stdout}")
    return result


def split_text_form(stdout: str) -> tuple[list[str], str]:
    """The prose lines before the first `---` (the target line first), and the YAML stream from there."""
    lines = stdout.splitlines(keepends=True)
    starts = [index for index, line in enumerate(lines) if line.rstrip("\n") == "---"]
    assert starts, f"no '---' document separator in the dry run's output:\n{stdout}"
    return [line.rstrip("\n") for line in lines[:starts[0]]], "".join(lines[starts[0]:])


def calls_in_comments(yaml_text: str) -> list[str]:
    lines = yaml_text.splitlines()
    assert CALLS_HEADER in lines, f"no {CALLS_HEADER!r} line in:\n{yaml_text}"
    after = lines[lines.index(CALLS_HEADER) + 1:]
    assert all(line.startswith("#   ") for line in after), f"not all comment lines after the header: {after}"
    return [line[len("#   "):] for line in after]


def with_service_ips(patch: dict, ips: dict[str, str]) -> dict:
    """The routing patch with each `<ClusterIP of Service NAME>` placeholder replaced by ips[NAME]."""
    def replace(value):
        if isinstance(value, dict):
            return {key: replace(item) for key, item in value.items()}
        if isinstance(value, list):
            return [replace(item) for item in value]
        if isinstance(value, str):
            match = PLACEHOLDER.match(value)
            if match:
                return ips[match.group(1)]
            # The routing record is JSON text inside the annotation.
            if value.startswith("{") and "<ClusterIP of Service" in value:
                return json.dumps({host: replace(ip) for host, ip in json.loads(value).items()})
        return value
    return replace(patch)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def kubeconfig() -> str:
    path = os.environ.get("KUBE_HARNESS_KUBECONFIG")
    if not path:
        pytest.skip("KUBE_HARNESS_KUBECONFIG is not set: these tests need the loopback control plane of "
                    "../shared/kube-harness (start.sh prints its admin kubeconfig; .ci/run exports it)")
    if not Path(path).is_file():
        pytest.fail(f"KUBE_HARNESS_KUBECONFIG={path} is not a file")
    return path


@pytest.fixture(scope="module")
def kube_validate(kubeconfig):
    try:
        import kubernetes_validate.utils as utils
    except ImportError:
        pytest.fail("PyPI kubernetes-validate is not installed: "
                    "python3 -m pip install kubernetes-validate==1.37.0 (.ci/run installs it)")
    return utils


@pytest.fixture(scope="module")
def namespace(kubeconfig):
    """A fresh namespace with a Deployment `edge-endpoint` that carries an alias of the user's."""
    name = f"toxictl-dry-run-{uuid.uuid4().hex[:8]}"
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": DEPLOYMENT, "namespace": name, "labels": {"app": DEPLOYMENT}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": DEPLOYMENT}},
            "template": {
                "metadata": {"labels": {"app": DEPLOYMENT}},
                "spec": {
                    "hostAliases": [USER_ALIAS],
                    "containers": [{"name": "app", "image": "example.invalid/edge-endpoint:1"}],
                },
            },
        },
    }
    kubectl(kubeconfig, "create", "namespace", name)
    try:
        kubectl(kubeconfig, "apply", "-f", "-", input_text=json.dumps(deployment))
        before = kubectl_json(kubeconfig, "-n", name, "get", "deployment", DEPLOYMENT)
        yield {"name": name, "deployment_before": before}
    finally:
        kubectl(kubeconfig, "delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def dry_runs(kubeconfig, namespace, tmp_path_factory):
    """The dry run, JSON and text, with the default host and with two --host values."""
    binary = toxictl_binary()
    cwd = tmp_path_factory.mktemp("toxictl-dry-run")
    base = ["enable", "-n", namespace["name"], "--kubeconfig", kubeconfig, "--dry-run"]
    host_args = [arg for host in TWO_HOSTS for arg in ("--host", host)]
    runs = {}
    for label, extra in (("default host", []), ("two hosts", host_args)):
        as_json = run_toxictl(binary, *base, "-o", "json", *extra, cwd=cwd)
        try:
            parsed = json.loads(as_json.stdout)
        except json.JSONDecodeError as error:
            raise AssertionError(f"-o json printed no JSON ({error}):\n{as_json.stdout}") from None
        as_text = run_toxictl(binary, *base, *extra, cwd=cwd)
        runs[label] = {"json": parsed, "text": as_text.stdout}
    return runs


def _manifest_cases():
    return [pytest.param(label, id=label.replace(" ", "-")) for label in ("default host", "two hosts")]


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("label", _manifest_cases())
def test_json_form_lists_the_install(dry_runs, namespace, label):
    plan = dry_runs[label]["json"]
    hosts = TWO_HOSTS if label == "two hosts" else ["api.groundlight.ai:443"]
    assert set(plan) == {"target", "dry_run", "manifests", "routing_patch", "calls"}
    assert plan["dry_run"] is True
    assert namespace["name"] in plan["target"]

    manifests = plan["manifests"]
    assert [m["kind"] for m in manifests] == ["ConfigMap", "Deployment", "Service"] + ["Service"] * len(hosts)
    assert len({object_ref(m) for m in manifests}) == len(manifests), "two manifests name the same object"
    for manifest in manifests:
        assert manifest["metadata"]["namespace"] == namespace["name"], object_ref(manifest)
        assert manifest["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "toxictl", object_ref(manifest)
    for service in manifests[2:]:
        assert service["spec"]["type"] == "ClusterIP", object_ref(service)
        assert all(port["protocol"] == "TCP" for port in service["spec"]["ports"]), object_ref(service)

    config = json.loads(manifests[0]["data"]["toxiproxy.json"])
    assert [p["upstream"] for p in config] == hosts
    assert [p["listen"] for p in config] == [f"0.0.0.0:{10443 + i}" for i in range(len(hosts))]

    # Before the first enable the ClusterIPs do not exist: the patch names the Service of each host.
    aliases = plan["routing_patch"]["spec"]["template"]["spec"]["hostAliases"]
    assert [a["hostnames"] for a in aliases] == [[h.split(":")[0]] for h in hosts]
    assert all(PLACEHOLDER.match(a["ip"]) for a in aliases), aliases
    assert USER_ALIAS["ip"] not in json.dumps(plan["routing_patch"]), "the patch must not touch the user's alias"
    assert plan["calls"] and all(isinstance(call, str) for call in plan["calls"])


@pytest.mark.parametrize("label", _manifest_cases())
def test_manifests_validate_against_kubernetes_1_30_strict(dry_runs, kube_validate, label):
    failures = []
    for manifest in dry_runs[label]["json"]["manifests"]:
        try:
            version = kube_validate.validate(manifest, KUBERNETES_SCHEMA_VERSION, strict=True)
        except kube_validate.ValidationError as error:
            path = ".".join(str(item) for item in error.path)
            failures.append(f"{object_ref(manifest)}: {path}: {error.message}")
            continue
        except kube_validate.SchemaNotFoundError as error:
            failures.append(f"{object_ref(manifest)}: {error.message}")
            continue
        assert version == "1.30", f"{object_ref(manifest)} was validated against {version}, not 1.30"
    assert not failures, "manifests not valid for Kubernetes 1.30 (strict):\n" + "\n".join(failures)


def test_strict_validation_rejects_an_unknown_field(dry_runs, kube_validate):
    """The check above is not vacuous: a misspelt field in the proxy Deployment fails strict mode."""
    deployment = copy.deepcopy(dry_runs["default host"]["json"]["manifests"][1])
    assert kube_validate.validate(deployment, KUBERNETES_SCHEMA_VERSION, strict=True) == "1.30"
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kube_validate.ValidationError):
        kube_validate.validate(deployment, KUBERNETES_SCHEMA_VERSION, strict=True)


@pytest.mark.parametrize("label", _manifest_cases())
def test_manifests_pass_server_side_dry_run_apply(dry_runs, kubeconfig, label):
    failures = []
    for manifest in dry_runs[label]["json"]["manifests"]:
        result = kubectl(kubeconfig, "apply", "--server-side", "--dry-run=server", "--field-manager=toxictl",
                         "-f", "-", input_text=json.dumps(manifest), check=False)
        if result.returncode != 0 or "serverside-applied (server dry run)" not in result.stdout:
            failures.append(f"{object_ref(manifest)}: exit {result.returncode}: {result.stderr}{result.stdout}")
    assert not failures, "server-side dry-run apply failed:\n" + "\n".join(failures)


@pytest.mark.parametrize("label", _manifest_cases())
def test_routing_patch_passes_server_side_dry_run(dry_runs, kubeconfig, namespace, label):
    """With the placeholders replaced by addresses, the API server takes the patch and keeps the user's alias."""
    plan = dry_runs[label]["json"]
    services = [m["metadata"]["name"] for m in plan["manifests"][3:]]
    ips = {name: f"127.2.255.{200 + index}" for index, name in enumerate(services)}
    patch = with_service_ips(plan["routing_patch"], ips)
    patched = kubectl_json(kubeconfig, "-n", namespace["name"], "patch", "deployment", DEPLOYMENT,
                           "--type=strategic", "--dry-run=server", "-p", json.dumps(patch))
    aliases = patched["spec"]["template"]["spec"]["hostAliases"]
    hosts = TWO_HOSTS if label == "two hosts" else ["api.groundlight.ai:443"]
    expected = [USER_ALIAS] + [{"ip": ips[name], "hostnames": [host.split(":")[0]]}
                               for name, host in zip(services, hosts)]
    assert sorted(aliases, key=lambda a: a["ip"]) == sorted(expected, key=lambda a: a["ip"])
    record = json.loads(patched["metadata"]["annotations"][ROUTING_ANNOTATION])
    assert record == {host.split(":")[0]: ips[name] for name, host in zip(services, hosts)}


@pytest.mark.parametrize("label", _manifest_cases())
def test_text_form_is_yaml_of_the_same_documents(dry_runs, namespace, label):
    import yaml

    text = dry_runs[label]["text"]
    plan = dry_runs[label]["json"]
    prose, stream = split_text_form(text)
    # The lines before the YAML: the target first (context, cluster, namespace, Deployment), then a note.
    assert prose and prose[0].startswith("target: "), prose
    assert f"namespace {namespace['name']}" in prose[0] and f"deployment {DEPLOYMENT}" in prose[0], prose[0]
    assert "nothing was changed" in " ".join(prose[1:]), prose

    try:
        documents = list(yaml.safe_load_all(stream))
    except yaml.YAMLError as error:
        raise AssertionError(f"the dry run's YAML does not parse: {error}\n{stream}") from None
    # The last `---` holds only the comment lines with the calls: an empty document.
    assert documents[-1] is None, f"expected the calls as a comment-only last document, got {documents[-1]!r}"
    assert documents[:-1] == plan["manifests"] + [plan["routing_patch"]]
    assert calls_in_comments(stream) == plan["calls"]


def test_dry_run_changed_nothing(dry_runs, kubeconfig, namespace):
    name = namespace["name"]
    assert len(dry_runs) == 2  # every dry run above has run by now
    created = kubectl_json(kubeconfig, "-n", name, "get",
                           "configmaps,deployments,services,replicasets,pods", "-l", MANAGED_BY)
    assert [object_ref(item) for item in created["items"]] == []

    before = namespace["deployment_before"]
    after = kubectl_json(kubeconfig, "-n", name, "get", "deployment", DEPLOYMENT)
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert after["spec"]["template"] == before["spec"]["template"]
    assert ROUTING_ANNOTATION not in (after["metadata"].get("annotations") or {})
