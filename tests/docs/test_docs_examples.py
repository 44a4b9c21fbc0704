"""The pages' examples run as written: README.md and every page under docs/, block by block, in an empty
folder that has the repository's ../shared beside it (so `../shared/data/mnist` means what it says).

How a page is read, in order:

- ```yaml title="FILE"``` writes FILE;
- ```bash``` runs in bash (exported variables carry over to later blocks), ```python``` in this Python;
- the ```text``` block right after a command is an excerpt of its output: each of its lines must
  appear, in order, within a line of the output (spaces collapsed);
- ``<!-- exit: N -->`` before a command expects exit status N instead of 0;
  ``<!-- test: skip -->`` leaves the next block out (say why in the prose: the block installs, serves or
  needs a GPU); ``<!-- test: slow -->`` runs the next block only in the slow suite (long trainings).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(<!--\s*(?P<marker>[^>]*?)\s*-->\n)?```(?P<lang>\w+)(?P<info>[^\n]*)\n(?P<body>.*?)^```$",
                   re.S | re.M)


@dataclass
class Block:
    lang: str
    info: str
    body: str
    marker: str
    line: int
    expected: str | None = None

    @property
    def title(self) -> str | None:
        match = re.search(r'title="([^"]+)"', self.info)
        return match[1] if match else None


def read_blocks(text: str) -> list[Block]:
    """Fenced blocks in order, each command with the text block that follows it as its expected output."""
    blocks: list[Block] = []
    for match in FENCE.finditer(text):
        block = Block(match["lang"], match["info"], match["body"], match["marker"] or "",
                      text.count("\n", 0, match.start("lang")) + 1)
        if block.lang == "text" and blocks and blocks[-1].lang in ("bash", "python") and blocks[-1].expected is None:
            blocks[-1].expected = block.body
        else:
            blocks.append(block)
    return blocks


def normal(line: str) -> str:
    return " ".join(line.split())


def assert_excerpt(expected: str, output: str, where: str) -> None:
    lines = [normal(line) for line in output.splitlines()]
    at = 0
    for want in filter(None, map(normal, expected.splitlines())):
        found = next((i for i in range(at, len(lines)) if want in lines[i]), None)
        assert found is not None, f"{where}: expected output line not found (in order): {want!r}\n--- output:\n{output}"
        at = found + 1


@pytest.fixture
def shell_env(tmp_path) -> dict[str, str]:
    return make_shell_env(tmp_path / ".bin")


def make_shell_env(bin_dir: Path) -> dict[str, str]:
    """This interpreter's zoo on PATH as `zoo`, whether or not the package's script is installed."""
    bin_dir.mkdir()
    zoo = bin_dir / "zoo"
    zoo.write_text(f'#!/bin/sh\nexec "{sys.executable}" -c "import sys; sys.argv[0] = \'zoo\'; '
                   f'from zoo.cli.main import run; run()" "$@"\n')
    zoo.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "ZOO_SPECS"}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", COLUMNS="140", TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    return env


def work_folder(tmp_path: Path) -> Path:
    """An empty folder whose ../shared is the repository's neighbour, as the pages assume."""
    folder = tmp_path / "work"
    folder.mkdir()
    shared = ROOT.parent / "shared"
    if shared.is_dir():
        (tmp_path / "shared").symlink_to(shared)
    return folder


def run_page(page: str, folder: Path, env: dict[str, str], slow: bool = False) -> int:
    """Run every block of PAGE (relative to the repository) in ``folder``; returns how many commands ran."""
    ran = 0
    env_file = folder / ".env"
    for block in read_blocks((ROOT / page).read_text(encoding="utf-8")):
        where = f"{page}:{block.line}"
        marker = block.marker.split("(")[0].strip()  # a reason may follow in parentheses
        if marker == "test: skip" or (marker == "test: slow" and not slow):
            continue
        if block.lang == "yaml" and block.title:
            (folder / block.title).write_text(block.body, encoding="utf-8")
            continue
        if block.lang == "bash":
            script = f"set -e\n{block.body}\nenv -0 > {env_file}\n"
            result = subprocess.run(["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True,
                                    timeout=300)
        elif block.lang == "python":
            result = subprocess.run([sys.executable, "-c", block.body], cwd=folder, env=env, capture_output=True,
                                    text=True, timeout=300)
        else:
            continue
        ran += 1
        output = result.stdout + result.stderr
        want = int(marker.split(":")[1]) if marker.startswith("exit:") else 0
        assert result.returncode == want, f"{where}: exit {result.returncode}, expected {want}\n{output}"
        if block.expected is not None:
            assert_excerpt(block.expected, output, where)
        if block.lang == "bash" and want == 0:
            env = dict(item.split("=", 1) for item in env_file.read_text().split("\0") if "=" in item)
    return ran


def test_read_blocks_pairs_commands_with_their_output():
    page = ('```yaml title="a.yaml"\nx: 1\n```\n\n<!-- exit: 2 -->\n```bash\nzoo validate a.yaml\n```\n\n'
            'Some prose.\n\n```text\nerror: a.yaml\n```\n<!-- test: skip -->\n```bash\nzoo docs serve\n```\n')
    blocks = read_blocks(page)
    assert [(b.lang, b.title, b.marker, b.expected) for b in blocks] == [
        ("yaml", "a.yaml", "", None), ("bash", None, "exit: 2", "error: a.yaml\n"), ("bash", None, "test: skip", None)]


def test_excerpts_must_appear_in_order():
    assert_excerpt("b 1\nd", "a\nb   1 x\nc\nd\n", "here")
    with pytest.raises(AssertionError, match="'b 1'"):
        assert_excerpt("d\nb 1", "a\nb 1\nd\n", "here")


# Pages run two at a time: a page spends most of its time starting TensorFlow in its subprocesses, each on
# one core, and this machine has two (the pages ran one after another in 50 s).
PARALLEL_PAGES = 2


@pytest.fixture(scope="module")
def page_runs(request, tmp_path_factory) -> dict:
    """Every page test_page_runs_as_written will check, run before the first check, each in its own folder:
    {page: (commands run, folder), or the exception its run raised}. The tutorial's count reuses its run."""
    pages = [item.callspec.params["page"] for item in request.session.items
             if item.module is request.module and item.originalname == "test_page_runs_as_written"]
    env = make_shell_env(tmp_path_factory.mktemp("bin") / ".bin")
    folders = {page: work_folder(tmp_path_factory.mktemp(re.sub(r"\W", "_", page))) for page in pages}

    def run(page: str):
        try:
            return page, (run_page(page, folders[page], env), folders[page])
        except Exception as e:  # raised by the page's own test, not here
            return page, e

    with ThreadPoolExecutor(PARALLEL_PAGES) as pool:
        return dict(pool.map(run, pages))


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_as_written(page, page_runs):
    outcome = page_runs[page]
    if isinstance(outcome, Exception):
        raise outcome


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_page_runs_as_written_with_its_long_commands(page, tmp_path, shell_env):
    run_page(page, work_folder(tmp_path), shell_env, slow=True)


def test_tutorial_runs_every_command(tmp_path, shell_env, page_runs):
    if isinstance(page_runs.get("docs/tutorial.md"), tuple):
        ran, folder = page_runs["docs/tutorial.md"]
    else:  # run alone (-k), or the page failed: run it here, to fail with its own message
        folder = work_folder(tmp_path)
        ran = run_page("docs/tutorial.md", folder, shell_env)
    assert ran == 8
    assert (folder / "my_resnets.yaml").is_file() and (folder / "broken.yaml").is_file()


def test_every_page_with_code_is_read():
    """A page whose blocks the reader cannot see (e.g. a ```sh fence) would pass while testing nothing."""
    for page in PAGES:
        text = (ROOT / page).read_text(encoding="utf-8")
        fences = len(re.findall(r"^```\w", text, re.M))
        assert fences == len(list(FENCE.finditer(text))), page


def test_tutorial_spec_is_option_a_resnet_like_the_zoos():
    """The tutorial's base spec is resnet_cifar.yaml's, so its resnet14 is that family's n = 2."""
    import zoo
    from zoo.spec.registry import Registry, default_registry

    page = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
    yaml_block = next(b for b in read_blocks(page) if b.title == "my_resnets.yaml")
    path = Path("my_resnets.yaml")
    path.write_text(yaml_block.body, encoding="utf-8")
    local = Registry(parent=default_registry())
    local.add_file(path)
    mine, zoos = local.spec("resnet14"), zoo.load_spec("resnet20")
    for field in ("input_shape", "classes", "conv", "block", "widths", "strides"):
        assert getattr(mine, field) == getattr(zoos, field), field
    assert zoo.count(f"{path}:resnet14")["trainable_params"] == 172_506
