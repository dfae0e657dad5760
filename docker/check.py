#!/usr/bin/env python3
"""Checks docker/ without a Docker engine or a cluster (scripts/package.sh runs it).

- every YAML file parses (PyYAML);
- Kubernetes manifests: probes use a declared container port, volume mounts a declared
  volume, secret volumes are mode 0440, terminationGracePeriodSeconds exceeds
  INSTALLER_STOP_DELAY + INSTALLER_GRACE, the installer is the command;
- compose files: secrets and depends_on point at declared ones, every service has a
  healthcheck, stop_grace_period exceeds INSTALLER_GRACE;
- Dockerfiles: every COPY source exists in the repository, the entrypoint is
  ["installer", "--"].

Exits 0 when all is well, 1 with one line per problem otherwise.
"""
import glob
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
problems = []


def problem(where, msg):
    problems.append(f"{os.path.relpath(where, ROOT)}: {msg}")


def seconds(text):
    """'40s', '2m', '1500ms', '30' -> seconds."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)?", str(text).strip())
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    value, unit = float(m.group(1)), m.group(2) or "s"
    return value * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def env_of(container):
    return {e["name"]: e.get("value", "") for e in container.get("env", []) or []}


def check_pod(path, pod, kind):
    containers = pod.get("containers", []) or []
    init = pod.get("initContainers", []) or []
    if not containers:
        problem(path, f"{kind}: no containers")
    volumes = {v["name"]: v for v in pod.get("volumes", []) or []}
    grace_period = pod.get("terminationGracePeriodSeconds", 30)
    for c in containers + init:
        name = c.get("name", "?")
        cmd = c.get("command", [])
        if not cmd or cmd[0] != "installer":
            problem(path, f"container {name}: command is not the installer: {cmd}")
        ports = {p.get("name") for p in c.get("ports", []) or []} | {
            p.get("containerPort") for p in c.get("ports", []) or []}
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if probe in c:
                port = c[probe].get("httpGet", {}).get("port")
                if port not in ports:
                    problem(path, f"container {name}: {probe} uses port {port!r}, not declared")
        if c in init and any(p in c for p in ("livenessProbe", "readinessProbe")):
            problem(path, f"init container {name}: probes do not run on init containers")
        for m in c.get("volumeMounts", []) or []:
            if m["name"] not in volumes:
                problem(path, f"container {name}: mounts undeclared volume {m['name']}")
        env = env_of(c)
        names = [e["name"] for e in c.get("env", []) or []]
        if len(names) != len(set(names)):
            problem(path, f"container {name}: duplicate environment variables")
        for var, value in env.items():
            if var.endswith("_PASSWORD") or var.endswith("_SECRET"):
                problem(path, f"container {name}: {var} holds a secret in the spec: use {var}_FILE")
        needed = seconds(env.get("INSTALLER_STOP_DELAY") or 0) + seconds(env.get("INSTALLER_GRACE") or "10s")
        if grace_period <= needed:
            problem(path, f"container {name}: terminationGracePeriodSeconds {grace_period} <= stop delay + grace {needed:g}")
    for v in volumes.values():
        if "secret" in v and v["secret"].get("defaultMode") not in (0o440, 0o400):
            problem(path, f"volume {v['name']}: secret mode {v['secret'].get('defaultMode')!r}, want 0440")


def check_k8s(path, doc):
    kind = doc.get("kind")
    spec = doc.get("spec", {})
    if kind == "Deployment":
        sel = spec.get("selector", {}).get("matchLabels", {})
        labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
        if not sel or any(labels.get(k) != v for k, v in sel.items()):
            problem(path, "Deployment: selector does not match the template's labels")
        if spec.get("replicas", 1) < 2:
            problem(path, "Deployment: fewer than 2 replicas")
        check_pod(path, spec["template"]["spec"], kind)
    elif kind == "Job":
        pod = spec["template"]["spec"]
        if pod.get("restartPolicy") not in ("Never", "OnFailure"):
            problem(path, "Job: restartPolicy must be Never or OnFailure")
        if "podFailurePolicy" in spec and pod.get("restartPolicy") != "Never":
            problem(path, "Job: podFailurePolicy needs restartPolicy Never")
        check_pod(path, pod, kind)
    else:
        problem(path, f"unexpected kind {kind}")


def check_compose(path, doc):
    services = doc.get("services", {})
    secrets = set((doc.get("secrets") or {}).keys())
    for name, svc in services.items():
        for s in svc.get("secrets", []) or []:
            s = s if isinstance(s, str) else s.get("source")
            if s not in secrets:
                problem(path, f"service {name}: secret {s} is not declared")
        deps = svc.get("depends_on", {}) or {}
        for d in deps:
            if d not in services:
                problem(path, f"service {name}: depends_on unknown service {d}")
        if "healthcheck" not in svc:
            problem(path, f"service {name}: no healthcheck")
        env = svc.get("environment", {}) or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) for e in env)
        for var in env:
            if var.endswith("_PASSWORD") or var.endswith("_SECRET"):
                problem(path, f"service {name}: {var} holds a secret: use {var}_FILE")
        if "INSTALLER_GRACE" in env:
            if seconds(svc.get("stop_grace_period", "10s")) <= seconds(env["INSTALLER_GRACE"]):
                problem(path, f"service {name}: stop_grace_period does not exceed INSTALLER_GRACE")
        build = svc.get("build")
        if build:
            ctx = os.path.normpath(os.path.join(os.path.dirname(path), build.get("context", ".")))
            if not os.path.isfile(os.path.join(ctx, build.get("dockerfile", "Dockerfile"))):
                problem(path, f"service {name}: no Dockerfile {build.get('dockerfile')} in context {ctx}")
    for s, spec in (doc.get("secrets") or {}).items():
        if "file" in spec and not os.path.abspath(os.path.join(os.path.dirname(path), spec["file"])).startswith(
                os.path.join(ROOT, "docker", "secrets")):
            problem(path, f"secret {s}: file outside docker/secrets/ (ignored by git)")


def check_dockerfile(path):
    text = open(path).read()
    text = re.sub(r"\\\n", " ", text)
    entry = None
    for line in text.splitlines():
        words = line.strip().split()
        if not words or words[0].startswith("#"):
            continue
        if words[0].upper() == "COPY" and not any(w.startswith("--from") for w in words):
            for src in [w for w in words[1:-1] if not w.startswith("--")]:
                if not glob.glob(os.path.join(ROOT, src)):
                    problem(path, f"COPY source {src} does not exist (context: the repository root)")
        if words[0].upper() == "ENTRYPOINT":
            entry = json.loads(line.strip()[len("ENTRYPOINT"):])
    if entry != ["installer", "--"]:
        problem(path, f"ENTRYPOINT is {entry}, want [\"installer\", \"--\"]")


def main():
    files = sorted(glob.glob(os.path.join(ROOT, "docker", "**", "*.y*ml"), recursive=True))
    for path in files:
        try:
            docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
        except yaml.YAMLError as e:
            problem(path, f"YAML: {e}")
            continue
        for doc in docs:
            if "apiVersion" in doc:
                check_k8s(path, doc)
            elif "services" in doc:
                check_compose(path, doc)
            else:
                problem(path, "neither a Kubernetes manifest nor a compose file")
    dockerfiles = sorted(glob.glob(os.path.join(ROOT, "docker", "**", "Dockerfile"), recursive=True))
    for path in dockerfiles:
        check_dockerfile(path)
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"docker/check.py: {len(files)} YAML files and {len(dockerfiles)} Dockerfiles look right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
