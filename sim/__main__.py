import gc
import sys

from .cli import main

code = main()
# What is left is freed by the exit: frozen, CPython's collector does not walk it again as the interpreter
# ends (about 0.3 s once Numba's compiler, pandas and matplotlib are loaded)
gc.freeze()
sys.exit(code)
