# make demo: the main job on the built-in synthetic dancer (no data of your own needed).
# make test: the test suite. Both create .venv and install requirements.txt on first use,
# and reinstall when requirements.txt changes.
PY := .venv/bin/python

.PHONY: venv demo test

venv: .venv/.installed

.venv/bin/python:
	python3 -m venv .venv

.venv/.installed: requirements.txt | .venv/bin/python
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

demo: venv
	$(PY) DanceDemo.py

test: venv
	$(PY) -m pytest -q
