"""schedcli's benchmarks: every figure of issue 7 beside its baseline, measured in the same run (`bench/run`)."""
