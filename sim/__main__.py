import atexit
import gc
import os
import sys
import threading

from . import portable

portable.apply()            # before NumPy is loaded: the same results on any x86-64 machine (sim.portable)

from .cli import main  # noqa: E402

code = main()
if threading.active_count() == 1:
    # The interpreter's own end frees every object and module one by one, for nothing: the exit frees the
    # memory at once (70 ms of a run's command, with Numba loaded). Its exit functions still run, and the
    # output is flushed; a thread still running is waited for by the usual end, below.
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:         # as the usual end reports it
        pass
    else:
        os._exit(code)
# What is left is freed by the exit: frozen, CPython's collector does not walk it again as the interpreter
# ends (about 0.3 s once Numba's compiler, pandas and matplotlib are loaded)
gc.freeze()
sys.exit(code)
