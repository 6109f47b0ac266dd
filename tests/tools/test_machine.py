"""companion.tools.machine: the machine description that benchmarks and the README's time table print."""
from companion.tools import machine


def test_cpu_name_and_description():
    name = machine.cpu_name()
    assert isinstance(name, str) and name
    text = machine.describe()
    assert text.startswith(name) and "CPU cores" in text and "threads" in text and "Python 3." in text
