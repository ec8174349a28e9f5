#!/usr/bin/env python3
"""Verify an approvald audit export bundle without trusting approvald.

Uses only the Python 3 standard library and the `openssl` command (OpenSSL
3, for the Ed25519 signature). Everything it checks is described in
docs/AUDIT.md; it is written to be read in one sitting by an auditor.

  python3 scripts/verify-bundle.py BUNDLE [--key VERIFIER_KEY] [--list]

  --key   the log's verifier key as the operator published it
          ("approvald/<unit>+<8 hex>+<base64>"); without it the key inside
          the bundle is used and printed, so compare it yourself.
  --list  print every leaf of the period (time in UTC+8, kind, who, what).

Exit status: 0 verified, 1 verification failed, 2 usage or environment error.
"""

import argparse
import base64
import binascii
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

SIGNATURE_PREFIX = "\u2014 "          # "— " (em dash, space) starts a signature line
ED25519_ALG = b"\x01"                 # signed-note algorithm byte for Ed25519
# DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the key follows.
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


class Failed(Exception):
    """Verification failed; the message says where and why."""


def b64(text, what, length=None):
    """Strict standard base64 (with padding); optionally of `length` bytes."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise Failed(f"{what} is not base64")
    if base64.b64encode(raw).decode() != text:
        raise Failed(f"{what} is not canonical base64")
    if length is not None and len(raw) != length:
        raise Failed(f"{what} is {len(raw)} bytes, not {length}")
    return raw


def sha256(data):
    return hashlib.sha256(data).digest()


def leaf_hash(data):          # RFC 6962: SHA-256(0x00 || leaf)
    return sha256(b"\x00" + data)


def node_hash(left, right):   # RFC 6962: SHA-256(0x01 || left || right)
    return sha256(b"\x01" + left + right)


def root_from_inclusion(index, size, leaf, proof):
    """RFC 9162 section 2.1.3.2: the root the proof leads to, or None."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn != 0 and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def key_id(name, public_key):
    """Signed-note key id: first 4 bytes of SHA-256(name || '\\n' || 0x01 || key)."""
    return sha256(name.encode() + b"\n" + ED25519_ALG + public_key)[:4]


def parse_verifier_key(text):
    """'<name>+<8 hex key id>+<base64(0x01 || key)>' -> (name, 32-byte key)."""
    name, sep, rest = text.partition("+")
    if not sep or len(rest) < 10 or rest[8] != "+":
        raise Failed(f"verifier key {text!r} is not <name>+<8 hex>+<base64>")
    kid, blob = rest[:8], b64(rest[9:], "verifier key", 33)
    if blob[:1] != ED25519_ALG:
        raise Failed("verifier key is not an Ed25519 key")
    if key_id(name, blob[1:]).hex() != kid:
        raise Failed("verifier key's id does not match its name and key")
    return name, blob[1:]


def openssl_verify(public_key, message, signature):
    """Ed25519 signature check by the openssl command (never by this script)."""
    pem = ("-----BEGIN PUBLIC KEY-----\n" +
           base64.b64encode(ED25519_SPKI_PREFIX + public_key).decode() +
           "\n-----END PUBLIC KEY-----\n")
    with tempfile.TemporaryDirectory() as tmp:
        paths = {n: os.path.join(tmp, n) for n in ("key.pem", "msg", "sig")}
        for name, data in (("key.pem", pem.encode()), ("msg", message),
                           ("sig", signature)):
            with open(paths[name], "wb") as f:
                f.write(data)
        run = subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", paths["key.pem"],
             "-rawin", "-in", paths["msg"], "-sigfile", paths["sig"]],
            capture_output=True, text=True)
    return run.returncode == 0 and "Signature Verified Successfully" in run.stdout


def parse_time(text):
    """'YYYY-MM-DDTHH:MM:SS.mmmZ' -> milliseconds since the epoch (UTC)."""
    try:
        t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        raise Failed(f"time {text!r} is not YYYY-MM-DDTHH:MM:SS.mmmZ")
    t = t.replace(tzinfo=datetime.timezone.utc)
    ms = int(t.timestamp()) * 1000 + t.microsecond // 1000
    if format_time(ms) != text:
        raise Failed(f"time {text!r} is not in canonical form")
    return ms


def format_time(ms, offset_hours=0):
    t = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    t += datetime.timedelta(milliseconds=ms % 1000, hours=offset_hours)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}" + \
        ("Z" if offset_hours == 0 else "")


def verify_checkpoint(note, origin, public_key):
    """C2SP tlog-checkpoint signed note -> (size, root). Checks our signature."""
    body, sep, signatures = note.partition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise Failed("checkpoint: no blank line and signature lines")
    lines = body.split("\n")
    if len(lines) != 4:
        raise Failed("checkpoint: the body must be origin, size, root, time")
    if lines[0] != origin:
        raise Failed(f"checkpoint: origin {lines[0]!r} is not {origin!r}")
    if not lines[1].isdigit() or (len(lines[1]) > 1 and lines[1][0] == "0"):
        raise Failed("checkpoint: the size is not a canonical decimal")
    size, root = int(lines[1]), b64(lines[2], "checkpoint root", 32)
    if not lines[3].startswith("time "):
        raise Failed("checkpoint: line 4 must be 'time <UTC>'")
    parse_time(lines[3][5:])
    ours = []
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX) or " " not in line[2:]:
            raise Failed(f"checkpoint: bad signature line {line!r}")
        name, blob = line[2:].split(" ", 1)
        blob = b64(blob, "checkpoint signature")
        if name == origin and blob[:4] == key_id(origin, public_key):
            ours.append(blob[4:])
    if len(ours) != 1:
        raise Failed("checkpoint: not exactly one signature by the log's key")
    if len(ours[0]) != 64 or not openssl_verify(public_key, (body + "\n").encode(),
                                                ours[0]):
        raise Failed("checkpoint: the Ed25519 signature does not verify")
    return size, root


def leaf_summary(leaf):
    """(time ms, kind, one-line description) of a decoded leaf."""
    if leaf.get("kind") == "event" and leaf.get("v") == 1:
        e = leaf["event"]
        return e["at"], "event", (f"instance {e['instance']} v{e['version']} "
                                  f"{e['type']} by {e['actor']}"
                                  + (f" at {e['node']}" if e["node"] else "")
                                  + (f": {e['comment']}" if e["comment"] else ""))
    if leaf.get("kind") == "record" and leaf.get("v") == 1:
        r = leaf["record"]
        return r["at"], "record", f"{r['type']} by {r['actor']} on {r['subject']}"
    raise Failed("leaf: unknown kind")


def verify(path, pinned_key, listing):
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8").split("\n")
    if lines[-1] != "":
        raise Failed("the bundle does not end with a newline")
    lines.pop()
    if not lines:
        raise Failed("the bundle is empty")
    header = json.loads(lines[0])
    expected = {"format", "version", "origin", "verifier_key", "public_key",
                "public_key_pem", "from", "to", "from_ms", "to_ms", "checkpoint",
                "first_index", "count"}
    if not isinstance(header, dict) or set(header) != expected:
        raise Failed("line 1 is not a bundle header")
    for name in ("version", "from_ms", "to_ms", "first_index", "count"):
        if type(header[name]) is not int:
            raise Failed(f"line 1: {name} is not an integer")
    if header["format"] != "approvald-audit-bundle" or header["version"] != 1:
        raise Failed("not an approvald-audit-bundle, version 1")

    origin, public_key = parse_verifier_key(header["verifier_key"])
    if origin != header["origin"] or \
            b64(header["public_key"], "public_key", 32) != public_key:
        raise Failed("origin / public_key disagree with verifier_key")
    if pinned_key is not None and parse_verifier_key(pinned_key) != (origin, public_key):
        raise Failed("the bundle is not signed by the key you trust")
    print(f"log      {origin}")
    print(f"key      {header['verifier_key']}" +
          ("  (matches --key)" if pinned_key else "  (compare with the published key!)"))

    frm, to = header["from_ms"], header["to_ms"]
    if parse_time(header["from"]) != frm or parse_time(header["to"]) != to or frm >= to:
        raise Failed("the period's from/to disagree")
    size, root = verify_checkpoint(header["checkpoint"], origin, public_key)
    print(f"checkpoint size {size}, root {root.hex()}: signature verified by openssl")

    first, count = header["first_index"], header["count"]
    if first < 0 or count < 0 or (count and first + count > size):
        raise Failed("the leaf range is not inside the checkpoint")
    if len(lines) != 1 + count:
        raise Failed(f"the bundle holds {len(lines) - 1} leaf lines, not {count}")
    in_period = 0
    for k, text in enumerate(lines[1:]):
        where = f"line {k + 2}"
        entry = json.loads(text)
        if not isinstance(entry, dict) or set(entry) != {"index", "leaf", "proof"}:
            raise Failed(f"{where}: not an index/leaf/proof object")
        if type(entry["index"]) is not int or entry["index"] != first + k:
            raise Failed(f"{where}: leaf {entry['index']} where {first + k} belongs")
        data = entry["leaf"].encode("utf-8")  # the exact bytes that were hashed
        proof = [b64(p, f"{where}: proof element", 32) for p in entry["proof"]]
        if root_from_inclusion(first + k, size, leaf_hash(data), proof) != root:
            raise Failed(f"{where}: leaf {first + k} is not included in the "
                         "signed checkpoint")
        at, kind, what = leaf_summary(json.loads(data))
        inside = frm <= at < to
        if (k == 0 or k == count - 1) and not inside:
            raise Failed(f"{where}: the range's first/last leaf is outside the period")
        in_period += inside
        if listing and inside:
            print(f"  {first + k:>8}  {format_time(at, 8)[:19].replace('T', ' ')}  "
                  f"{kind:<6}  {what}")
    print(f"leaves   {first}..{first + count - 1}: {count} included, "
          f"{in_period} in {header['from']} .. {header['to']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bundle")
    parser.add_argument("--key", help="the verifier key you trust")
    parser.add_argument("--list", action="store_true", help="list the period's leaves")
    args = parser.parse_args()
    if shutil.which("openssl") is None:
        print("error: the openssl command is needed for Ed25519", file=sys.stderr)
        return 2
    try:
        verify(args.bundle, args.key, args.list)
    except Failed as e:
        print(f"FAILED: {e}")
        return 1
    except (OSError, UnicodeDecodeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        print(f"FAILED: malformed bundle ({type(e).__name__}: {e})")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
