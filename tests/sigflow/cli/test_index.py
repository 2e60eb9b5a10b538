"""`sigflow index add|remove` as a user runs them: a real process, the store on disk, exit codes."""

import json
import subprocess
import sys
from pathlib import Path

SIGFLOW = str(Path(sys.executable).with_name("sigflow"))


def sigflow(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([SIGFLOW, *args], capture_output=True, text=True, timeout=600, cwd=cwd)


def test_documents_are_added_with_their_groups_changed_and_removed_from_the_shell(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "leave.md").write_text("# Leave policy\nEveryone gets 25 days of paid leave a year.\n")
    (tmp_path / "docs" / "faq.jsonl").write_text(json.dumps({"id": "vpn", "text": "Use the VPN for the wiki."}) + "\n")
    added = sigflow("index", "add", "--store", "store", "--group", "hr", "--group", "eng", "docs", "--json",
                    cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("store version 1: 2 added; 2 passages embedded, 2 in all")
    assert json.loads(added.stdout.splitlines()[-1])["added"] == ["vpn", "leave"]
    regrouped = sigflow("index", "add", "--store", "store", "docs/leave.md", cwd=tmp_path)
    assert regrouped.stdout.startswith("store version 2: 1 regrouped; 0 passages embedded")
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text())
    assert manifest["documents"]["leave"]["groups"] == [] and manifest["documents"]["vpn"]["groups"] == ["eng", "hr"]
    removed = sigflow("index", "remove", "--store", "store", "vpn", cwd=tmp_path)
    assert removed.stdout.startswith("store version 3: 1 removed")


def test_a_bad_path_or_an_unknown_document_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "notes.docx").write_text("x")
    for args, message in [(("add", "--store", "store", "notes.docx"), "error: notes.docx: documents are"),
                          (("add", "--store", "store", "missing.md"), "error: no such file or directory: missing.md"),
                          (("remove", "--store", "store", "leave"), "error: store is not a vector store")]:
        finished = sigflow("index", *args, cwd=tmp_path)
        assert finished.returncode == 2 and finished.stderr.startswith(message), finished.stderr
        assert len(finished.stderr.strip().splitlines()) == 1
