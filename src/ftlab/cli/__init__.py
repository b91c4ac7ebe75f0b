"""The ``ftlab`` command line: thin command modules (parse arguments, call the library,
print), one per command group; the table below registers them in ``ftlab --help`` order.

``ftlab = ftlab.cli:main`` is the console script; ``python -m ftlab`` runs the same.
"""

from ftlab.cli._analysis import compare, ensemble, runs, seeds
from ftlab.cli._app import app, console, data_app, err_console, main
from ftlab.cli._data import data_inspect, data_list
from ftlab.cli._evaluate import calibrate, evaluate, export, predict, report
from ftlab.cli._robustness import check, transform
from ftlab.cli._run import baseline, quickstart, train, validate_config
from ftlab.cli._scratch import scratch
from ftlab.cli._toolbelt import (
    check_setup_cmd,
    find_batch_size_cmd,
    find_lr_cmd,
    gradcheck_cmd,
)
from ftlab.cli._tune import tune

data_app.command('list')(data_list)
data_app.command('inspect')(data_inspect)
app.command()(train)
app.command()(quickstart)
app.command()(evaluate)
app.command()(calibrate)
app.command()(predict)
app.command()(baseline)
app.command()(report)
app.command()(export)
app.command()(transform)
app.command()(check)
app.command()(compare)
app.command()(ensemble)
app.command()(seeds)
app.command()(tune)
app.command()(runs)
app.command()(scratch)
app.command('find-batch-size')(find_batch_size_cmd)
app.command('find-lr')(find_lr_cmd)
app.command('check-setup')(check_setup_cmd)
app.command('gradcheck')(gradcheck_cmd)
app.command('validate-config')(validate_config)

__all__ = ["app", "console", "data_app", "err_console", "main"]
