"""The build step of the objgraph-go wheel: go build.

pyproject.toml holds the metadata. This file adds what it cannot say: the
objgraph and objgraph-render programs are built from the Go sources with
the Go toolchain (GO names the go command, or else the first on PATH, or
/usr/local/go/bin/go) into the wheel's scripts, which pip installs next to
the environment's python, and the wheel is tagged for this platform (any
Python 3: the programs do not link with Python).

The programs are static (CGO_ENABLED=0), built with -trimpath and stamped
with the package's version. The Go build cache ($GOCACHE, by default in the
user's cache directory) makes builds after the first quick.
"""

import os
import shutil
import stat
import subprocess

from setuptools import Command, setup
from setuptools.command.install_scripts import install_scripts
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools before 70.1
    from wheel.bdist_wheel import bdist_wheel

try:
    from setuptools.errors import ExecError, PlatformError
except ImportError:  # setuptools before 59
    from distutils.errors import DistutilsExecError as ExecError, DistutilsPlatformError as PlatformError

# Program name -> Go package.
PROGRAMS = {
    "objgraph": "./cmd/objgraph",
    "objgraph-render": "./cmd/objgraph/objgraph-render",
}

HERE = os.path.dirname(os.path.abspath(__file__))


def go_command():
    go = os.environ.get("GO") or shutil.which("go")
    if not go and os.access("/usr/local/go/bin/go", os.X_OK):
        go = "/usr/local/go/bin/go"
    if not go:
        raise PlatformError(
            "building objgraph-go needs the Go toolchain (go 1.26 or later, https://go.dev/dl/): "
            "no go on PATH nor in /usr/local/go/bin; set GO to the go command")
    return go


class GoDistribution(Distribution):
    """A distribution whose scripts are the Go programs."""

    def has_scripts(self):
        return True


class build_go_programs(Command):
    """go build each program into the build's scripts directory."""

    description = "build the Go programs"
    user_options = []

    def initialize_options(self):
        self.build_dir = None
        self.outfiles = []

    def finalize_options(self):
        self.set_undefined_options("build", ("build_scripts", "build_dir"))

    def run(self):
        go = go_command()
        version = self.distribution.get_version()
        self.mkpath(self.build_dir)
        env = dict(os.environ, CGO_ENABLED="0")
        self.outfiles = []
        for name, pkg in sorted(PROGRAMS.items()):
            out = os.path.join(self.build_dir, name)
            cmd = [go, "build", "-trimpath", "-buildvcs=false",
                   "-ldflags=-s -w -X main.version=" + version, "-o", os.path.abspath(out), pkg]
            self.announce("building %s: %s" % (name, " ".join(cmd)), level=2)
            if subprocess.call(cmd, cwd=HERE, env=env) != 0:
                raise ExecError("building %s failed: %s" % (name, " ".join(cmd)))
            self.outfiles.append(out)

    def get_outputs(self):
        return [os.path.join(self.build_dir, n) for n in sorted(PROGRAMS)]

    def get_source_files(self):
        return []


class install_go_programs(install_scripts):
    """Copy the built programs into the scripts directory, executable."""

    def run(self):
        self.run_command("egg_info")
        self.outfiles = self.copy_tree(self.build_dir, self.install_dir)
        for f in self.outfiles:
            if not self.dry_run:
                mode = os.stat(f).st_mode
                os.chmod(f, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


class platform_wheel(bdist_wheel):
    """A wheel for this platform and any Python 3."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(
    distclass=GoDistribution,
    cmdclass={
        "build_scripts": build_go_programs,
        "install_scripts": install_go_programs,
        "bdist_wheel": platform_wheel,
    },
)
