"""Plants the mistakes a results store could make, one at a time, in a fresh clone of this checkout's HEAD, and runs the tests
that should catch each: prints CAUGHT or NOT CAUGHT per plant. Usage: /usr/bin/python3 environment/plant_results_store_faults.py [INDEX ...]
(about 10 minutes for all; docs/results-store.md lists the plants and what caught them)."""
import os, subprocess, sys, tempfile
here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
root = os.path.join(tempfile.mkdtemp(prefix="vaelab-plants-"), "clone")
subprocess.run(["git", "clone", "-q", here, root], check=True)
plants = [
 ("sweep ignores the learning-rate axis", 'src/VaeLab/Experiments/RunConfig.cs',
  'new(Epochs, BatchSize, LearningRate, Seed: Seed', 'new(Epochs, BatchSize, 1e-3, Seed: Seed', 'FullyQualifiedName~SweepTableTests.Changing'),
 ("reconstruction column filled from distortion", 'src/VaeLab/Experiments/ResultsTable.cs',
  'Double("reconstruction_loglik_nats", r => r.ReconstructionLogLikelihoodNats)', 'Double("reconstruction_loglik_nats", r => r.DistortionNats)', 'FullyQualifiedName~SweepTableTests.EveryColumn'),
 ("KL stored in bits", 'src/VaeLab/Experiments/SweepRunner.cs',
  'elbo.ReconstructionLogLikelihoodNats, elbo.KlNats,', 'elbo.ReconstructionLogLikelihoodNats, elbo.KlNats / Math.Log(2),', 'FullyQualifiedName~SweepTableTests.EveryColumn'),
 ("merge compares only the ELBO and KL", 'src/VaeLab/Experiments/ResultStore.cs',
  '        if (Figures(a) == Figures(b)) return null;', '        if (a.TestElboNats == b.TestElboNats && a.KlNats == b.KlNats) return null;', 'FullyQualifiedName~AMergeFindsAConflict'),
 ("resume never resumes", 'src/VaeLab/Experiments/SweepRunner.cs',
  '                trainer.Resume(checkpoint);\n                progress?.Report', '                File.Delete(checkpoint);\n                progress?.Report', 'FullyQualifiedName~SweepProcessTests.AKill'),
 ("row id not checked against its file name", 'src/VaeLab/Experiments/RunRowValidation.cs',
  'if (row.RunId != expectedId) return', 'if (row.RunId == null) return', 'FullyQualifiedName~ResultStoreIntegrityTests.ADamagedRow'),
 ("a live claim is taken as stale", 'src/VaeLab/Experiments/RunClaim.cs',
  '            return !IsAlive(owner.ProcessId, owner.StartTicks);', '            return true;', 'FullyQualifiedName~CooperatingSweepsTests'),
 ("releasing a claim deletes another process's claim", 'src/VaeLab/Experiments/RunClaim.cs',
  '        if (IsHeld) TryDelete(Path);', '        TryDelete(Path);', 'FullyQualifiedName~CooperatingSweepsTests.AReusedPid'),
 ("a reused pid taken for the owner", 'src/VaeLab/Experiments/RunClaim.cs',
  'return startTicks is null || ticks == startTicks;', 'return true;', 'FullyQualifiedName~CooperatingSweepsTests.AReusedPid'),
 ("a missing figure read as 0", 'src/VaeLab/Experiments/ResultStore.cs',
  'RespectRequiredConstructorParameters = true,', 'RespectRequiredConstructorParameters = false,', 'FullyQualifiedName~ResultStoreIntegrityTests.ADamagedRow'),
 ("IDX allocates before checking the file's size", 'src/VaeLab/Data/IdxReader.cs',
  '        if (exact && available - header < length)', '        if (false && available - header < length)', 'FullyQualifiedName~IdxReaderTests.AHeaderClaiming'),
]
only = sys.argv[1:] 
for i,(name, path, old, new, filt) in enumerate(plants):
    if only and str(i) not in only: continue
    p = os.path.join(root, path)
    s = open(p).read()
    assert s.count(old) == 1, (name, s.count(old))
    open(p, 'w').write(s.replace(old, new))
    try:
        b = subprocess.run('dotnet build -c Release -v q -nologo', shell=True, cwd=root, capture_output=True, text=True)
        if ' error ' in b.stdout: print(f'{name}: BUILD ERROR', b.stdout[-500:], flush=True); continue
        t = subprocess.run(f'dotnet test tests/VaeLab.Tests -c Release --no-build --filter "{filt}"', shell=True, cwd=root, capture_output=True, text=True)
        summary = [l for l in t.stdout.splitlines() if 'Passed!' in l or 'Failed!' in l]
        failed = [l.strip() for l in t.stdout.splitlines() if l.strip().startswith('Failed ')]
        print(f'{name}: {"CAUGHT" if t.returncode != 0 else "NOT CAUGHT"} {summary} {failed[:4]}', flush=True)
    finally:
        open(p, 'w').write(s)
