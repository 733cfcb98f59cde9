"""The runner's tidy step: one parameters cell in the book, with the run's values."""

from __future__ import annotations

import nbformat

from gamutlib.reproduce.tidy import HIDDEN_TAG, tidy_parameters


def executed(defaults: str, injected: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A chapter"),
        nbformat.v4.new_code_cell(defaults, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(injected, metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("print(profile)", outputs=[nbformat.v4.new_output("stream", name="stdout", text="gpu\n")]),
    ]
    return nb


def test_defaults_hidden_and_the_run_values_shown_with_their_comments():
    nb = executed(
        'profile = "smoke"  # smoke | cpu | gpu\nresults_dir = "book/results"  # where tables go\nweights_dir = "weights"',
        '# Parameters\nprofile = "gpu"\nresults_dir = "build/x"\nextra = 3\n',
    )
    outputs_before = [cell.get("outputs") for cell in nb.cells]
    assert tidy_parameters(nb)
    assert HIDDEN_TAG in nb.cells[1].metadata.tags
    assert nb.cells[2].source.splitlines()[1:] == [
        'profile = "gpu"  # smoke | cpu | gpu',
        'results_dir = "build/x"  # where tables go',
        'weights_dir = "weights"',
        "extra = 3",
    ]
    assert [cell.get("outputs") for cell in nb.cells] == outputs_before
    assert not tidy_parameters(nb)  # a second pass changes nothing


def test_a_defaults_cell_with_other_statements_stays_visible():
    nb = executed('profile = "smoke"\nimport os\n', '# Parameters\nprofile = "gpu"\n')
    assert not tidy_parameters(nb)
    assert HIDDEN_TAG not in nb.cells[1].metadata.get("tags", [])
    assert nb.cells[2].source == '# Parameters\nprofile = "gpu"\n'


def test_a_notebook_without_injected_parameters_is_left_alone():
    nb = executed('profile = "smoke"', "")
    nb.cells.pop(2)
    assert not tidy_parameters(nb)
