"""--scheduler and trust: Dask unpickles what a scheduler sends, so the help and the README warn, and a tls://
address connects with Dask's TLS security. Tested without a TLS cluster: what reaches dask's Client."""
from __future__ import annotations

import pytest

distributed = pytest.importorskip("distributed")   # a declared dependency: only a guard
import dask  # noqa: E402

from sim.cli import main  # noqa: E402
from sim.errors import EnsembleError  # noqa: E402
from sim.experiments.executors import connect, security_for  # noqa: E402

from .conftest import ROOT  # noqa: E402
from .test_ensemble import LICENSING  # noqa: E402

ADDRESS = "tls://10.0.0.5:8786"


@pytest.fixture
def pems(tmp_path):
    files = {}
    for name in ("ca", "cert", "key"):
        files[name] = tmp_path / f"{name}.pem"
        files[name].write_text("-----BEGIN PLACEHOLDER-----\n")
    return {k: str(v) for k, v in files.items()}


@pytest.fixture
def client_kwargs(monkeypatch):
    """Stand in for distributed.Client: record what it was given, then fail as an unreachable scheduler does."""
    seen = {}

    def fake(address, **kwargs):
        seen.update(kwargs, address=address)
        raise OSError("no scheduler here (test)")

    monkeypatch.setattr(distributed, "Client", fake)
    return seen


def test_the_help_warns_that_a_scheduler_can_run_code_here(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "Dask unpickles what the scheduler sends" in help_text and "can run code on this machine" in help_text
    assert "--tls-ca-file" in help_text and "--tls-cert" in help_text


def test_the_readme_warns_too():
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "unpickles what the scheduler sends" in readme and "--tls-ca-file" in readme


def test_a_plain_address_takes_no_security_and_no_tls_files(pems):
    assert security_for("tcp://10.0.0.5:8786") is None
    with pytest.raises(EnsembleError, match="--tls-ca-file goes with a tls:// scheduler address"):
        security_for("tcp://10.0.0.5:8786", ca_file=pems["ca"])


def test_a_tls_address_gets_mutual_tls_with_the_files_given(pems):
    security = security_for(ADDRESS, pems["ca"], pems["cert"], pems["key"])
    assert isinstance(security, distributed.security.Security)
    assert security.require_encryption
    assert (security.tls_ca_file, security.tls_client_cert, security.tls_client_key) == \
        (pems["ca"], pems["cert"], pems["key"])


def test_a_tls_address_takes_its_files_from_dask_config(pems):
    with dask.config.set({"distributed.comm.tls.ca-file": pems["ca"],
                          "distributed.comm.tls.client.cert": pems["cert"]}):
        security = security_for(ADDRESS)
    assert security.tls_ca_file == pems["ca"] and security.tls_client_cert == pems["cert"]


def test_a_tls_address_without_files_is_refused_with_what_to_give():
    with dask.config.set({"distributed.comm.tls.ca-file": None, "distributed.comm.tls.client.cert": None}):
        with pytest.raises(EnsembleError, match="give --tls-ca-file and --tls-cert"):
            security_for(ADDRESS)


def test_a_missing_tls_file_is_named(pems, tmp_path):
    with pytest.raises(EnsembleError, match="TLS certificate .*nope.pem.* not found"):
        security_for(ADDRESS, pems["ca"], str(tmp_path / "nope.pem"))


def test_connect_hands_the_security_to_dask(pems, client_kwargs):
    security = security_for(ADDRESS, pems["ca"], pems["cert"], pems["key"])
    with pytest.raises(EnsembleError, match=f"cannot reach the Dask scheduler at {ADDRESS}"):
        connect(ADDRESS, security)
    assert client_kwargs["address"] == ADDRESS and client_kwargs["security"] is security


def test_the_cli_passes_its_tls_files_to_dask(pems, client_kwargs, tmp_path, capsys):
    out = tmp_path / "ens"
    assert main([str(LICENSING), "--replications", "2", "--scheduler", ADDRESS, "--tls-ca-file", pems["ca"],
                 "--tls-cert", pems["cert"], "--tls-key", pems["key"], "--out", str(out)]) == 2
    security = client_kwargs["security"]
    assert security.require_encryption and security.tls_ca_file == pems["ca"]
    assert security.tls_client_cert == pems["cert"] and security.tls_client_key == pems["key"]
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err and not out.exists()


def test_a_plain_address_reaches_dask_without_security(client_kwargs, tmp_path):
    assert main([str(LICENSING), "--replications", "2", "--scheduler", "tcp://10.0.0.5:8786",
                 "--out", str(tmp_path / "ens")]) == 2
    assert "security" not in client_kwargs


def test_tls_files_without_a_scheduler_are_refused(pems, tmp_path, capsys):
    assert main([str(LICENSING), "--replications", "2", "--tls-cert", pems["cert"],
                 "--out", str(tmp_path / "ens")]) == 2
    assert "--tls-cert goes with a tls:// --scheduler" in capsys.readouterr().err
