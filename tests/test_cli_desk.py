"""The verification desk's commands (docs/web.md, "The verification desk"): ``chainpass desk
add-operator``/``remove-operator``/``operators``, ``chainpass identity disclose --qr [--desk]``,
and ``chainpass serve --desk-as`` (refused for an account that is no relying party or with no
operator; run as a process, the bank's desk). In process against the session's Anvil node, as
the other CLI tests (tests/cli_world.py); the desk's pages are tested in tests/test_web_desk.py.
"""

from __future__ import annotations

import html
import json
import re
import stat
from pathlib import Path

import requests
from accounts import credential_for
from cli_world import Operator
from web_world import serve_process

from chainpass.attributes import Disclosure
from chainpass.web.operators import Operators, operators_path


def test_desk_operators_are_added_listed_and_removed(operator: Operator) -> None:
    added = operator.ok("desk", "add-operator", "ana", "--json").json()
    operator.ok("desk", "add-operator", "ben")
    listed = [row["operator"] for row in operator.ok("desk", "operators", "--json").json()]
    operator.ok("desk", "remove-operator", "ben")
    bad_name = operator.error("desk", "add-operator", "Ana Smith")
    missing = operator.error("desk", "remove-operator", "ben")

    path = operators_path(operator.home)
    assert listed == ["ana", "ben"]
    assert [row["operator"] for row in operator.ok("desk", "operators", "--json").json()] == ["ana"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert added["secret"] not in path.read_text()  # only its hash
    assert Operators(path).check("ana", added["secret"]) and not Operators(path).check("ana", added["secret"] + "x")
    assert "lower-case letters" in bad_name and "There is no desk operator 'ben'" in missing


def test_identity_disclose_draws_its_qr_code(operator: Operator, tmp_path: Path) -> None:
    credential = credential_for("0x" + "12" * 20)
    (tmp_path / "credential.json").write_text(json.dumps(credential.to_json()))
    disclose = ["identity", "disclose", "--credential", str(tmp_path / "credential.json"), "--attribute", "name"]

    plain = operator.ok(*disclose, "--qr", str(tmp_path / "plain.svg"))
    linked = operator.ok(*disclose, "--qr", str(tmp_path / "linked.svg"), "--desk", "https://desk.hotel.example/")
    operator.ok(*disclose, "--qr", str(tmp_path / "linked.png"), "--desk", "https://desk.hotel.example")
    no_qr = operator.error(*disclose, "--desk", "https://desk.hotel.example")
    bad_desk = operator.error(*disclose, "--qr", str(tmp_path / "x.svg"), "--desk", "desk.hotel.example")

    # The SVG's title is what the code holds.
    plain_text = _title(tmp_path / "plain.svg")
    linked_text = _title(tmp_path / "linked.svg")
    assert plain.out == "" and "Wrote a QR code" in plain.err
    assert plain_text.startswith("cpd1.") and Disclosure.from_text(plain_text) == credential.disclose(["name"])
    assert linked_text == "https://desk.hotel.example/desk#" + plain_text
    assert "Wrote a QR code" in linked.err
    assert (tmp_path / "linked.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(stat.S_IMODE((tmp_path / n).stat().st_mode) == 0o600 for n in ("plain.svg", "linked.png"))
    assert "give --qr FILE too" in no_qr and "is not a web address" in bad_desk


def _title(svg: Path) -> str:
    found = re.search(r"<title>([^<]*)</title>", svg.read_text())
    assert found is not None
    return html.unescape(found[1])


def test_serve_refuses_a_desk_for_an_account_that_is_no_relying_party(deployed: Operator) -> None:
    not_party = deployed.error("serve", "--desk-as", "3")
    no_operator = deployed.error("serve", "--desk-as", "2")

    assert "is not an appointed relying party" in not_party
    assert "The desk has no operator yet" in no_operator


def test_chainpass_serve_runs_the_desk_as_the_relying_party(deployed: Operator) -> None:
    secret = deployed.ok("desk", "add-operator", "ana", "--json").json()["secret"]
    home = ["--rpc", deployed.rpc, "--home", str(deployed.home)]
    serve = ["serve", "--desk-as", "2", "--resolver-url", "https://desk.bank.example"]

    with serve_process(*home, *serve, probe="/desk") as served:
        sign_in = served.base + "/desk/sign-in"
        wrong = requests.post(sign_in, data={"operator": "ana", "secret": "x"}, timeout=30)
        right = requests.post(sign_in, data={"operator": "ana", "secret": secret}, allow_redirects=False, timeout=30)

    assert served.first.status_code == 401 and deployed.accounts[2] in served.first.text  # the bank's desk
    assert wrong.status_code == 401
    # Behind an https resolver URL (a TLS proxy in front), the session cookie is Secure too.
    assert right.status_code == 303 and "Secure" in right.headers["Set-Cookie"]
    assert "The verification desk is at https://desk.bank.example/desk" in served.out.decode()
    assert served.returncode == 0 and b"Traceback" not in served.err
    assert secret.encode() not in served.out + served.err
