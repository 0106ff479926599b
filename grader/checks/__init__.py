"""The checks students are graded by, as pytest functions named ``check_*``.

``public/`` checks need only the student's package and the golden fixtures, so they can ship to
students and run in ``nngrade check``; ``hidden/`` checks compare with the live reference and
train models. Each check names its rubric item with ``@pytest.mark.rubric``.
"""
