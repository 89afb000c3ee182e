#!/usr/bin/env python3
"""Checks of the motcua chart's rendered manifests, called by helm/tests/run.

    check.py schema SCHEMA VALUES_JSON        the merged values against values.schema.json
    check.py documented VALUES_YAML           every key of values.yaml has a comment
    check.py validate DIR VERSION...          every manifest against the Kubernetes schemas
    check.py facts CASE DIR                   what the chart promises, per value set

Each prints one line per thing checked and exits 1 on the first failure set.
"""

import argparse
import json
import re
import sys
from pathlib import Path

import jsonschema
import yaml
from kubernetes_validate import utils as kv

# Custom resources whose CRDs kubernetes-validate does not ship: their shape
# is checked here instead (apiVersion, kind, name, and the fields the chart sets).
CUSTOM_RESOURCES = {("monitoring.coreos.com/v1", "ServiceMonitor")}


class Failed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failed(message)


def load_manifests(directory):
    """Every rendered document, with the file it came from."""
    manifests = []
    for path in sorted(Path(directory).glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                manifests.append((path.name, doc))
    expect(manifests, f"nothing was rendered in {directory}")
    return manifests


def cmd_schema(args):
    schema = json.loads(Path(args.schema).read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    values = json.loads(Path(args.values).read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(values), key=lambda e: list(e.path))
    for error in errors:
        where = ".".join(str(p) for p in error.path) or "(top)"
        print(f"  schema: {where}: {error.message}")
    expect(not errors, f"{args.values} does not match {args.schema}")
    print(f"  values match values.schema.json (draft-07)")


KEY = re.compile(r"^(\s*)([A-Za-z][A-Za-z0-9]*):")


def cmd_documented(args):
    """Every key line is preceded by a comment line (helm-docs' convention) or
    carries one; keys inside list items are example data, not settings."""
    undocumented = []
    list_indent = None
    previous = ""
    for number, line in enumerate(Path(args.values).read_text().splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        indent = len(line) - len(line.lstrip())
        if list_indent is not None and indent <= list_indent and not stripped.startswith("-"):
            list_indent = None
        if stripped.startswith("- ") and list_indent is None:
            list_indent = indent
        match = KEY.match(line)
        if match and list_indent is None and not stripped.startswith("#"):
            if not previous.startswith("#") and " # " not in line:
                undocumented.append(f"line {number}: {match.group(2)}")
        previous = stripped
    for entry in undocumented:
        print(f"  undocumented key at {entry}")
    expect(not undocumented, f"{args.values} has keys without a comment")
    print("  every key of values.yaml is documented")


def cmd_validate(args):
    failures = 0
    for file, doc in load_manifests(args.directory):
        kind, api_version = doc.get("kind"), doc.get("apiVersion")
        name = (doc.get("metadata") or {}).get("name")
        label = f"{kind}/{name} ({file})"
        if (api_version, kind) in CUSTOM_RESOURCES:
            problems = check_custom_resource(doc)
            for problem in problems:
                print(f"  FAIL {label}: {problem}")
            failures += len(problems)
            if not problems:
                print(f"  ok   {label}: custom resource, shape checked (no CRD schema in kubernetes-validate)")
            continue
        # Strict: a misspelt field is an error, not silently dropped by the API server.
        failed = 0
        for version in args.versions:
            try:
                kv.validate(doc, version, strict=True)
            except kv.ValidationError as error:
                path = ".".join(str(p) for p in error.path)
                print(f"  FAIL {label} against Kubernetes {version}: {path}: {error.message}")
                failed += 1
            except kv.SchemaNotFoundError as error:
                print(f"  FAIL {label}: {error.message}")
                failed += 1
        if not failed:
            print(f"  ok   {label} against Kubernetes {', '.join(args.versions)} (strict)")
        failures += failed
    expect(failures == 0, f"{failures} manifest(s) in {args.directory} do not validate")


def check_custom_resource(doc):
    problems = []
    metadata = doc.get("metadata") or {}
    if not metadata.get("name"):
        problems.append("no metadata.name")
    if doc.get("kind") == "ServiceMonitor":
        endpoints = (doc.get("spec") or {}).get("endpoints") or []
        if not endpoints:
            problems.append("no spec.endpoints")
        for endpoint in endpoints:
            if not endpoint.get("port"):
                problems.append("an endpoint without a port")
        if not (doc.get("spec") or {}).get("selector", {}).get("matchLabels"):
            problems.append("no spec.selector.matchLabels")
    return problems


# --- what the chart promises ---------------------------------------------


def by_kind(manifests, kind, suffix=None):
    found = [d for _, d in manifests if d["kind"] == kind and (suffix is None or d["metadata"]["name"].endswith(suffix))]
    return found


def one(manifests, kind, suffix=None):
    found = by_kind(manifests, kind, suffix)
    expect(len(found) == 1, f"expected one {kind}{' *' + suffix if suffix else ''}, found {len(found)}")
    return found[0]


def env_of(container):
    return {e["name"]: e for e in container.get("env", [])}


def check_hardened(deployment_or_job):
    pod = deployment_or_job["spec"]["template"]["spec"]
    name = deployment_or_job["metadata"]["name"]
    expect(pod.get("automountServiceAccountToken") is False, f"{name}: the service account token is mounted")
    expect(pod["securityContext"].get("runAsNonRoot") is True, f"{name}: pod may run as root")
    expect(pod["securityContext"].get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{name}: no RuntimeDefault seccomp")
    for container in pod["containers"]:
        sc = container.get("securityContext", {})
        expect(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 10001, f"{name}: not user 10001, non-root")
        expect(sc.get("readOnlyRootFilesystem") is True, f"{name}: root filesystem is writable")
        expect(sc.get("allowPrivilegeEscalation") is False, f"{name}: privilege escalation allowed")
        expect(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{name}: capabilities not dropped")
        expect(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{name}: container seccomp")
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        expect("/tmp" in mounts, f"{name}: no /tmp mount")
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        expect("emptyDir" in volumes.get(mounts["/tmp"], {}), f"{name}: /tmp is not an emptyDir")
        expect("resources" in container and container["resources"].get("requests"), f"{name}: no resource requests")
    print(f"  {name}: non-root 10001, read-only root, no escalation, no capabilities, seccomp, /tmp emptyDir")


def check_selectors(manifests):
    """Every selector picks the pods it means: a typo here fails silently in a cluster."""
    pods = {}
    for d in by_kind(manifests, "Deployment"):
        selector = d["spec"]["selector"]["matchLabels"]
        labels = d["spec"]["template"]["metadata"]["labels"]
        expect(selector.items() <= labels.items(), f"{d['metadata']['name']}: selector does not match its pods")
        pods[labels["app.kubernetes.io/component"]] = labels
    api = pods["api"]
    service = one(manifests, "Service")
    expect(service["spec"]["selector"].items() <= api.items(), "the Service does not select the API pods")
    expect(service["spec"]["ports"][0]["name"] == "http", "the Service's port is not named http")
    for pdb in by_kind(manifests, "PodDisruptionBudget"):
        expect(pdb["spec"]["selector"]["matchLabels"].items() <= api.items(), "the PDB does not select the API pods")
    for policy in by_kind(manifests, "NetworkPolicy", "-api"):
        expect(policy["spec"]["podSelector"]["matchLabels"].items() <= api.items(), "the API NetworkPolicy misses the API pods")
    for monitor in by_kind(manifests, "ServiceMonitor"):
        expect(monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items(),
               "the ServiceMonitor does not select the Service")
    for _, d in manifests:
        labels = d["metadata"].get("labels", {})
        for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "helm.sh/chart"):
            expect(key in labels, f"{d['kind']}/{d['metadata']['name']} lacks the label {key}")
    print("  selectors of Service, PDB, NetworkPolicy and ServiceMonitor match the pods; every resource is labelled")


def check_common(manifests):
    api = one(manifests, "Deployment", "-api")
    container = api["spec"]["template"]["spec"]["containers"][0]
    expect(container["args"] == ["serve"], f"API args: {container['args']}")
    expect(container["livenessProbe"]["httpGet"]["path"] == "/livez", "API liveness is not /livez")
    expect(container["readinessProbe"]["httpGet"]["path"] == "/readyz", "API readiness is not /readyz")
    expect(container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}], "API port is not http 8080")
    env = env_of(container)
    expect(env.get("MOTCUA_NO_MIGRATE", {}).get("value") == "true", "the API migrates")
    expect(env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "DATABASE_URL", "the API's database URL key")
    annotations = api["spec"]["template"]["metadata"]["annotations"]
    expect(re.fullmatch(r"[0-9a-f]{64}", annotations.get("checksum/config", "")), "no checksum/config annotation")
    config = one(manifests, "ConfigMap")["data"]
    expect(config["MOTCUA_LISTEN"] == "0.0.0.0:8080", "MOTCUA_LISTEN")
    expect(config["MOTCUA_BODY_LIMIT_BYTES"].isdigit(), f"MOTCUA_BODY_LIMIT_BYTES is {config['MOTCUA_BODY_LIMIT_BYTES']!r}")
    print("  API: serve on 0.0.0.0:8080, /livez and /readyz probes, --no-migrate, config checksum")
    check_hardened(api)

    job = one(manifests, "Job", "-migrate")
    annotations = job["metadata"]["annotations"]
    expect(annotations["helm.sh/hook"] == "pre-install,pre-upgrade", "the migration is not a pre-install,pre-upgrade hook")
    expect(annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded", "migration hook delete policy")
    migrate = job["spec"]["template"]["spec"]["containers"][0]
    expect(migrate["args"] == ["migrate"], "the Job does not run `motcua migrate`")
    expect(env_of(migrate)["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "MIGRATION_DATABASE_URL",
           "the Job does not use the owner URL")
    expect(job["spec"]["backoffLimit"] >= 0 and job["spec"]["activeDeadlineSeconds"] > 0, "Job limits")
    # Whatever the pre-install Job needs must itself be a hook of lower weight:
    # on a first install the release's ordinary resources do not exist yet.
    job_weight = int(annotations["helm.sh/hook-weight"])
    needed = {
        ("ServiceAccount", job["spec"]["template"]["spec"]["serviceAccountName"]),
        ("Secret", env_of(migrate)["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"]),
        ("NetworkPolicy", job["metadata"]["name"]),
    }
    for _, d in manifests:
        if (d["kind"], d["metadata"]["name"]) in needed:
            hook = d["metadata"].get("annotations", {})
            label = f"{d['kind']}/{d['metadata']['name']}"
            expect(hook.get("helm.sh/hook") == "pre-install,pre-upgrade", f"{label} is not a hook, but the Job needs it")
            expect(int(hook["helm.sh/hook-weight"]) < job_weight, f"{label} comes after the Job")
    print("  migration Job: pre-install,pre-upgrade hook, `motcua migrate` with MIGRATION_DATABASE_URL; its account and secret exist before it")
    check_hardened(job)

    for account in by_kind(manifests, "ServiceAccount"):
        expect(account.get("automountServiceAccountToken") is False, "a ServiceAccount mounts its token")
    check_selectors(manifests)
    return api, env


def check_projector(manifests, env, enabled):
    projectors = by_kind(manifests, "Deployment", "-projector")
    if enabled:
        expect(len(projectors) == 1, "no projector Deployment")
        projector = projectors[0]
        container = projector["spec"]["template"]["spec"]["containers"][0]
        expect(container["args"][0] == "project", f"projector args: {container['args']}")
        expect("livenessProbe" not in container and "ports" not in container, "the projector has no HTTP port to probe")
        expect(env.get("MOTCUA_NO_PROJECTOR", {}).get("value") == "true", "the API pods project beside the projector")
        check_hardened(projector)
        print("  projector: `motcua project` Deployment; the API runs with MOTCUA_NO_PROJECTOR")
    else:
        expect(not projectors, "a projector Deployment although projector.enabled is false")
        expect("MOTCUA_NO_PROJECTOR" not in env, "MOTCUA_NO_PROJECTOR set with no projector Deployment")
        print("  projector: in the API pods (no Deployment, no MOTCUA_NO_PROJECTOR)")


POSTGRES_CA_DIR = "/etc/motcua/postgres-ca"


def check_postgres_ca(manifests, secret=None, key="ca.crt"):
    """With database.tls.caSecret (`secret`), every pod that connects to the
    database — API, projector, migration Job — mounts that Secret's CA
    read-only as POSTGRES_CA_DIR/ca.crt, the file the URLs' sslrootcert
    names; without it, no pod mounts anything there."""
    workloads = by_kind(manifests, "Deployment") + by_kind(manifests, "Job")
    components = {w["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] for w in workloads}
    expect({"api", "migrate"} <= components, f"the database's pods are not all rendered: {sorted(components)}")
    for workload in workloads:
        name = workload["metadata"]["name"]
        pod = workload["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod["containers"]:
            mounts = [m for m in container.get("volumeMounts", [])
                      if m["mountPath"].rstrip("/") == POSTGRES_CA_DIR or m["mountPath"].startswith(POSTGRES_CA_DIR + "/")]
            if secret is None:
                expect(not mounts, f"{name}: mounts {POSTGRES_CA_DIR} without database.tls.caSecret")
                expect("postgres-ca" not in volumes, f"{name}: a CA volume without database.tls.caSecret")
                continue
            expect(len(mounts) == 1, f"{name}: {len(mounts)} mounts at {POSTGRES_CA_DIR}, expected one")
            mount = mounts[0]
            expect(mount["mountPath"] == POSTGRES_CA_DIR, f"{name}: the CA is mounted at {mount['mountPath']}")
            expect(mount.get("readOnly") is True, f"{name}: the CA mount is not read-only")
            expect("subPath" not in mount, f"{name}: a subPath mount would not follow the Secret's updates")
            volume = volumes.get(mount["name"], {})
            expect(volume.get("secret", {}).get("secretName") == secret, f"{name}: {POSTGRES_CA_DIR} is not the Secret {secret}")
            expect(volume["secret"].get("items") == [{"key": key, "path": "ca.crt"}],
                   f"{name}: the CA volume projects {volume['secret'].get('items')}, not {key} as ca.crt")
    if secret is None:
        print(f"  PostgreSQL CA: none mounted ({', '.join(sorted(components))})")
    else:
        print(f"  PostgreSQL CA: Secret {secret} key {key} read-only at {POSTGRES_CA_DIR}/ca.crt in {', '.join(sorted(components))}")


READ_REPLICA_ENV = "MOTCUA_READ_DATABASE_URL"


def check_read_replica(manifests, key=None, peers=None, port=5432):
    """Only the API container gets the read replica's URL (MOTCUA_READ_DATABASE_URL),
    and only with database.readReplica.enabled (`key`: the database Secret's key
    holding it): from the Secret its DATABASE_URL comes from, never as a plain value
    or through the ConfigMap. The projector and the migration Job (and the API without
    a replica) work on the primary alone. With `peers`, the API's NetworkPolicy lets
    it reach the replica there on `port`, and no other pod's policy does."""
    workloads = by_kind(manifests, "Deployment") + by_kind(manifests, "Job")
    given = []
    for workload in workloads:
        name = workload["metadata"]["name"]
        component = workload["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
        pod = workload["spec"]["template"]["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            env = env_of(container)
            if component == "api" and key is not None:
                expect(READ_REPLICA_ENV in env, f"{name}: no {READ_REPLICA_ENV} although database.readReplica.enabled")
                entry = env[READ_REPLICA_ENV]
                expect("value" not in entry, f"{name}: {READ_REPLICA_ENV} is a plain value, not from the Secret")
                ref = entry["valueFrom"]["secretKeyRef"]
                primary = env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"]
                expect(ref["name"] == primary, f"{name}: the replica's URL comes from {ref['name']}, not the database Secret {primary}")
                expect(ref["key"] == key, f"{name}: the replica's URL is the key {ref['key']}, not {key}")
                given.append(f"{name}/{container['name']}")
            else:
                expect(READ_REPLICA_ENV not in env,
                       f"{name}/{container['name']} has {READ_REPLICA_ENV}"
                       + ("" if key is not None else " although database.readReplica is off"))
    for config in by_kind(manifests, "ConfigMap"):
        expect(READ_REPLICA_ENV not in config.get("data", {}), "the replica's URL is in a ConfigMap")
    if key is not None:
        expect(given, "no API container was given the replica's URL")
    if peers is not None:
        api = one(manifests, "NetworkPolicy", "-api")
        rules = [r for r in api["spec"]["egress"] if r.get("to") == peers]
        expect(any({"port": port, "protocol": "TCP"} in r.get("ports", []) for r in rules),
               f"the API's NetworkPolicy does not reach the replica {peers} on {port}")
        for policy in by_kind(manifests, "NetworkPolicy"):
            if policy is api:
                continue
            for rule in policy["spec"]["egress"]:
                if {"port": port, "protocol": "TCP"} not in rule.get("ports", []):
                    continue
                to = rule.get("to") or []
                expect(to, f"{policy['metadata']['name']} reaches any address on the replica's port {port}")
                expect(not any(peer in to for peer in peers), f"{policy['metadata']['name']} reaches the replica at {peers}")
    if key is None:
        print(f"  read replica: none; {READ_REPLICA_ENV} in no container")
    else:
        where = f", NetworkPolicy to {peers} on {port} for the API only" if peers is not None else ""
        print(f"  read replica: {READ_REPLICA_ENV} from the database Secret's {key} in {', '.join(given)} only{where}")


def egress_ports(policy):
    return {(p["port"], p.get("protocol", "TCP")) for rule in policy["spec"]["egress"] for p in rule.get("ports", [])}


def case_minimal(manifests):
    api, env = check_common(manifests)
    check_projector(manifests, env, enabled=True)
    check_postgres_ca(manifests)
    check_read_replica(manifests)
    expect(api["spec"]["replicas"] == 2, "default API replicas")
    config = one(manifests, "ConfigMap")["data"]
    expect(config["MOTCUA_JWKS_URL"].startswith("https://"), "the JWKS URL is not in the ConfigMap")
    for kind in ("Ingress", "HorizontalPodAutoscaler", "ServiceMonitor", "Secret"):
        expect(not by_kind(manifests, kind), f"a {kind} by default")
    policy = one(manifests, "NetworkPolicy", "-api")
    expect({(53, "UDP"), (53, "TCP"), (5432, "TCP"), (443, "TCP")} <= egress_ports(policy), f"API egress: {egress_ports(policy)}")
    print("  defaults: 2 API replicas, JWKS settings in the ConfigMap, NetworkPolicy DNS/5432/443, no Ingress/HPA/ServiceMonitor/Secret")


def case_production(manifests):
    api, env = check_common(manifests)
    check_projector(manifests, env, enabled=True)
    check_postgres_ca(manifests, secret="motcua-postgres-ca", key="ca.crt")
    check_read_replica(manifests, key="READ_DATABASE_URL", peers=[{"ipBlock": {"cidr": "10.20.0.17/32"}}])
    expect("replicas" not in api["spec"], "the API Deployment sets replicas although the HPA owns them")
    hpa = one(manifests, "HorizontalPodAutoscaler")
    expect(hpa["spec"]["scaleTargetRef"]["name"] == api["metadata"]["name"], "the HPA scales another Deployment")
    expect({m["resource"]["name"] for m in hpa["spec"]["metrics"]} == {"cpu", "memory"}, "HPA metrics")
    for name in ("MOTCUA_JWKS_URL", "MOTCUA_JWT_ISSUER", "MOTCUA_JWT_AUDIENCE"):
        expect(env[name]["valueFrom"]["secretKeyRef"]["name"] == "motcua-oidc", f"{name} is not from the Secret")
    ingress = one(manifests, "Ingress")
    expect(ingress["spec"]["tls"][0]["secretName"] == "motcua-api-tls", "Ingress TLS")
    paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    expect(paths == {"/graphql", "/graphiql"}, f"the Ingress publishes {paths}")
    monitor = one(manifests, "ServiceMonitor")
    endpoint = monitor["spec"]["endpoints"][0]
    expect(endpoint["path"] == "/metrics" and endpoint["port"] == "http", "ServiceMonitor endpoint")
    pdb = one(manifests, "PodDisruptionBudget")
    expect(pdb["spec"].get("minAvailable") == 2 and "maxUnavailable" not in pdb["spec"], "PDB minAvailable")
    policy = one(manifests, "NetworkPolicy", "-api")
    expect((4318, "TCP") in egress_ports(policy), "no egress to the OTLP collector's port")
    migrate_policy = one(manifests, "NetworkPolicy", "-migrate")
    expect(migrate_policy["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade", "the Job's policy is not a hook")
    expect((443, "TCP") not in egress_ports(migrate_policy) and (4318, "TCP") not in egress_ports(migrate_policy), "migration egress too wide")
    projector = one(manifests, "Deployment", "-projector")
    expect(projector["spec"]["replicas"] == 2, "hot-standby projector")
    expect("@sha256:" in api["spec"]["template"]["spec"]["containers"][0]["image"], "the image is not pinned by digest")
    print("  production: HPA (no replicas on the Deployment), OIDC from a Secret, TLS Ingress of /graphql and /graphiql,")
    print("              ServiceMonitor /metrics on http, PDB minAvailable 2, OTLP egress 4318, standby projector, pinned image,")
    print("              read replica for the API")


def case_small(manifests):
    api, env = check_common(manifests)
    check_projector(manifests, env, enabled=False)
    check_postgres_ca(manifests)
    check_read_replica(manifests)
    expect(api["spec"]["replicas"] == 1, "one API replica")
    for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "Ingress"):
        expect(not by_kind(manifests, kind), f"a {kind} in the small set")
    print("  small: one API pod projecting in-process, no HPA/PDB/NetworkPolicy/Ingress")


def case_trial(manifests):
    api, env = check_common(manifests)
    check_projector(manifests, env, enabled=True)
    check_postgres_ca(manifests)
    check_read_replica(manifests)
    secret = one(manifests, "Secret")
    expect(set(secret["stringData"]) == {"DATABASE_URL", "MIGRATION_DATABASE_URL"}, "trial Secret keys")
    expect(env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == secret["metadata"]["name"], "the API does not use the trial Secret")
    expect("checksum/database-secret" in api["spec"]["template"]["metadata"]["annotations"], "no secret checksum")
    config = one(manifests, "ConfigMap")["data"]
    expect(config.get("MOTCUA_DEV_KEY_FILE", "").startswith("/tmp/"), "the development key is not under /tmp")
    expect("MOTCUA_JWKS_URL" not in config, "JWKS settings in a development-token trial")
    expect(api["spec"]["replicas"] == 1, "a trial with development tokens has one API replica")
    policy = one(manifests, "NetworkPolicy", "-api")
    expect((443, "TCP") not in egress_ports(policy), "egress to an identity provider the trial does not have")
    print("  trial: chart-made Secret (a hook, before the Job), development key in /tmp, one API replica")


def case_trial_replica(manifests):
    """The trial with a read replica: the chart writes its URL into the Secret it
    makes, and the API's NetworkPolicy reaches it on its own port (5433), at the
    database's peers since networkPolicy.readReplica.to is left empty."""
    api, env = check_common(manifests)
    check_projector(manifests, env, enabled=True)
    secret = one(manifests, "Secret")
    expect(set(secret["stringData"]) == {"DATABASE_URL", "MIGRATION_DATABASE_URL", "READ_DATABASE_URL"},
           f"trial Secret keys: {sorted(secret['stringData'])}")
    expect(secret["stringData"]["READ_DATABASE_URL"].startswith("postgres://motcua_api:")
           and "postgres-read" in secret["stringData"]["READ_DATABASE_URL"], "the replica's URL in the trial Secret")
    database_peers = [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgresql"}}}]
    check_read_replica(manifests, key="READ_DATABASE_URL", peers=database_peers, port=5433)
    policy = one(manifests, "NetworkPolicy", "-api")
    expect({(5432, "TCP"), (5433, "TCP")} <= egress_ports(policy), f"API egress: {egress_ports(policy)}")
    print("  trial with a read replica: its URL in the chart-made Secret, egress to the database's peers on its port 5433")


def cmd_facts(args):
    manifests = load_manifests(args.directory)
    notes = (Path(args.directory) / "NOTES.txt").read_text()
    expect("/graphiql" in notes and "projections status" in notes, "NOTES.txt lacks GraphiQL or the projections check")
    cases = {"minimal": case_minimal, "production": case_production, "small": case_small, "trial": case_trial,
             "trial-replica": case_trial_replica}
    cases[args.case](manifests)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("schema")
    p.add_argument("schema")
    p.add_argument("values")
    p.set_defaults(run=cmd_schema)
    p = sub.add_parser("documented")
    p.add_argument("values")
    p.set_defaults(run=cmd_documented)
    p = sub.add_parser("validate")
    p.add_argument("directory")
    p.add_argument("versions", nargs="+")
    p.set_defaults(run=cmd_validate)
    p = sub.add_parser("facts")
    p.add_argument("case", choices=["minimal", "production", "small", "trial", "trial-replica"])
    p.add_argument("directory")
    p.set_defaults(run=cmd_facts)
    args = parser.parse_args()
    try:
        args.run(args)
    except Failed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
