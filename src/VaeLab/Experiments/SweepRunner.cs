using System.Diagnostics;
using System.Reflection;
using VaeLab.Data;
using VaeLab.Data.Synthetic;
using VaeLab.Evaluation;
using VaeLab.Evaluation.Disentanglement;
using VaeLab.Evaluation.Inference;
using VaeLab.Models;
using VaeLab.Runtime;
using VaeLab.Training;
using static TorchSharp.torch;

namespace VaeLab.Experiments;

/// <summary>
/// Runs a sweep into a <see cref="ResultStore"/>: finished runs are skipped, unfinished ones resume from their
/// checkpoint (exactly: the same metrics as an uninterrupted run), each finished run's row is written atomically.
/// A kill at any moment loses at most the epoch in progress. <c>shard i/n</c> runs the i-th of n disjoint slices,
/// so a job array (Slurm, Kubernetes indexed Job) spreads a sweep over machines; <see cref="ResultStore.MergeFrom"/>
/// combines their stores.
/// </summary>
public static class SweepRunner
{
    /// <summary>Seed of the shapes grid's train/test split (fixed, so every run of a sweep sees the same data).</summary>
    public const long ShapesDataSeed = 20_251_125;

    /// <summary>Grid points a shapes sweep holds out for its test metrics unless the spec says otherwise.</summary>
    public const int ShapesTestPoints = 1000;

    /// <summary>The configurations of shard <paramref name="shardIndex"/> of <paramref name="shardCount"/>: every n-th, starting at i.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not 0 ≤ i &lt; n.</exception>
    public static IReadOnlyList<RunConfig> Shard(SweepSpec spec, int shardIndex, int shardCount)
    {
        if (shardCount < 1 || shardIndex < 0 || shardIndex >= shardCount)
            throw new ArgumentOutOfRangeException(nameof(shardIndex), $"A shard is i/n with 0 ≤ i < n; got {shardIndex}/{shardCount}.");
        return spec.Configurations().Where((_, index) => index % shardCount == shardIndex).ToArray();
    }

    /// <summary>How often a process waiting on runs that other processes hold looks again.</summary>
    public static TimeSpan WaitPoll { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Runs (or continues) the sweep's shard; returns the rows of its runs, finished now or before, one per run. Before anything is
    /// trained, the data is checked (not empty, the shape the models take) and the shard's finished runs are audited: a damaged row,
    /// or a missing or damaged model, is moved to the store's rejected/ folder (said on <paramref name="progress"/>) and its run
    /// trains again. Several processes may run the same sweep on one store: each run is claimed by one of them
    /// (<see cref="RunClaim"/>); the others skip it, wait for it at the end, and take it over if its owner dies.
    /// </summary>
    /// <exception cref="ArgumentException">The data is empty or not of the shape the sweep's models take (names the data).</exception>
    public static IReadOnlyList<RunResult> Run(SweepSpec spec, ResultStore store, int shardIndex = 0, int shardCount = 1,
        IProgress<string>? progress = null, CancellationToken cancellation = default, IProgress<SweepProgress>? detail = null)
    {
        IReadOnlyList<RunConfig> runs = Shard(spec, shardIndex, shardCount);
        using DataChoice data = LoadData(spec);
        CheckData(data, runs);
        progress?.Report($"data: {data.Description}");
        foreach (RunConfig config in runs) Audit(store, config.Id, progress);
        // Rows of other sweeps in the same folder go into its table too: a damaged one is set aside now, not found after training.
        var mine = runs.Select(r => r.Id).ToHashSet();
        foreach (string file in store.RowFiles())
            if (!mine.Contains(Path.GetFileNameWithoutExtension(file)) && store.TryRead(Path.GetFileNameWithoutExtension(file), out string? problem) is null && problem is not null)
                progress?.Report($"Result file '{file}': {problem} Set aside in {store.SetAside(Path.GetFileNameWithoutExtension(file)) ?? store.RejectedFolder}.");

        var pending = Enumerable.Range(0, runs.Count).ToList();
        var waitingReported = new HashSet<string>();
        var lastSaid = new Dictionary<string, DateTime>();
        while (pending.Count > 0)
        {
            foreach (int i in pending.ToArray())
            {
                cancellation.ThrowIfCancellationRequested();
                RunConfig config = runs[i];
                string id = config.Id;
                if (store.TryRead(id, out _) is not null)
                {
                    progress?.Report($"[{i + 1}/{runs.Count}] {id}: {(waitingReported.Contains(id) ? "finished by another process" : "already finished")}");
                    pending.Remove(i);
                    continue;
                }
                using RunClaim? claim = RunClaim.TryAcquire(store.ClaimPath(id), out RunClaimOwner? holder, out RunClaimOwner? previous);
                if (claim is null)
                {
                    if (waitingReported.Add(id)) progress?.Report($"[{i + 1}/{runs.Count}] {id}: being trained by another process ({holder?.ToString() ?? "claim unreadable"}); skipped for now");
                    else if (DateTime.UtcNow - lastSaid[id] > TimeSpan.FromMinutes(1))
                        progress?.Report($"[{i + 1}/{runs.Count}] {id}: still waiting for {holder?.ToString() ?? "the holder of an unreadable claim"} ({store.ClaimPath(id)}; a stopped or hung owner holds it until it is killed)");
                    else continue;
                    lastSaid[id] = DateTime.UtcNow;
                    continue;
                }
                if (previous is not null) progress?.Report($"[{i + 1}/{runs.Count}] {id}: its owner ({previous}) is gone; taking the run over");
                // Another process may have finished the run between the look above and the claim.
                if (store.TryRead(id, out _) is not null) { pending.Remove(i); continue; }
                progress?.Report($"[{i + 1}/{runs.Count}] {id}: training (latent {config.LatentDimensions}, β {config.Beta}, seed {config.Seed})");
                int number = i + 1;
                var training = detail is null ? null : new SynchronousProgress<TrainingProgress>(p => detail.Report(new SweepProgress(number, runs.Count, id, p)));
                RunResult result;
                using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation, claim.Lost))
                {
                    try
                    {
                        result = RunOne(config, data, store, progress, training, stop.Token, claim);
                    }
                    catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
                    {
                        // This process was judged gone (frozen past the stale rule) and the run is another's now: write nothing.
                        progress?.Report($"[{i + 1}/{runs.Count}] {id}: another process has taken the run over; leaving it to that process");
                        continue;
                    }
                }
                store.Add(result); // the row is the commit point: written last
                detail?.Report(new SweepProgress(number, runs.Count, id, null));
                File.Delete(store.CheckpointPath(id));
                pending.Remove(i);
                NativeHeap.Trim();   // what the run's threads freed goes back to the system: the main job's memory no longer rises run by run
            }
            if (pending.Count > 0) cancellation.WaitHandle.WaitOne(WaitPoll);
        }
        var rows = runs.Select(r => store.TryRead(r.Id, out string? problem)
            ?? throw new InvalidDataException($"Run {r.Id}: its row in '{store.RowPath(r.Id)}' {(problem is null ? "is missing" : "is damaged: " + problem)} after the sweep finished it (another process set it aside?); run the sweep again.")).ToArray();
        return rows;
    }

    /// <summary>Checks the data before anything is trained or written: neither split empty, examples of the shape the models take.</summary>
    /// <exception cref="ArgumentException">Names the split, its source and what is wrong.</exception>
    public static void CheckData(DataChoice data, IEnumerable<RunConfig> runs)
    {
        foreach (var (split, name) in new[] { (data.Train, "training"), (data.Test, "test") })
        {
            if (split.Count == 0) throw new ArgumentException($"The {name} set is empty: {split.Name} ({split.Origin}) holds no examples.");
            foreach (RunConfig config in runs)
                if (!split.ExampleShape.SequenceEqual(config.Model.InputShape))
                    throw new ArgumentException($"The {name} set {split.Name} ({split.Origin}) has examples of shape [{string.Join("×", split.ExampleShape)}]; the sweep's models take [{string.Join("×", config.Model.InputShape)}].");
        }
    }

    // A finished run whose row or model is damaged is set aside (nothing is deleted) and trains again.
    static void Audit(ResultStore store, string id, IProgress<string>? progress)
    {
        if (!store.Contains(id)) return;
        RunResult? row = store.TryRead(id, out string? problem);
        if (row is not null) problem = store.ModelProblem(row);
        else problem = $"Result file '{store.RowPath(id)}': {problem}";
        if (problem is null) return;
        string? where = store.SetAside(id);
        progress?.Report($"{id}: {problem} Set aside in {where ?? store.RejectedFolder}; the run trains again.");
    }

    static RunResult RunOne(RunConfig config, DataChoice data, ResultStore store, IProgress<string>? progress, IProgress<TrainingProgress>? training, CancellationToken cancellation, RunClaim claim)
    {
        var clock = Stopwatch.StartNew();
        string checkpoint = store.CheckpointPath(config.Id);
        manual_seed(config.Seed);
        VariationalAutoencoder model = config.Model.Build();
        using var trainer = new Trainer(model, config.Training());
        if (File.Exists(checkpoint))
        {
            try
            {
                trainer.Resume(checkpoint);
                progress?.Report($"  resumed from its checkpoint after epoch {trainer.EpochsDone}");
            }
            catch (CheckpointException e)
            {
                // Checkpoints are written atomically, so this means a foreign or hand-edited file: start over, say so.
                progress?.Report($"  its checkpoint cannot be used ({e.Message}); starting the run again");
                File.Delete(checkpoint);
            }
        }
        double earlierSeconds = trainer.History.Sum(h => h.Seconds);
        var history = trainer.Fit(data.Train, data.Test, training, cancellation, checkpoint);

        // Evaluation steps are not interruptible inside; a stop between them ends the run (its checkpoint stays, so a rerun
        // evaluates again without training).
        cancellation.ThrowIfCancellationRequested();
        ElboSummary elbo = Evaluator.TestElbo(model, data.Test, config.Seed);
        cancellation.ThrowIfCancellationRequested();
        LogLikelihoodEstimate? logLikelihood = config.ImportanceSamples > 0
            ? Evaluator.ImportanceSampledLogLikelihood(model, data.Test, config.ImportanceSamples, config.Seed)
            : null;
        cancellation.ThrowIfCancellationRequested();
        var (active, _) = ActiveUnits.Count(model, data.Test);
        double[] klPerDimension = Evaluator.KlPerDimension(model, data.Test);
        DisentanglementScores? disentanglement = null;
        if (config.Data == SweepData.Shapes)
        {
            cancellation.ThrowIfCancellationRequested();
            disentanglement = DisentanglementScores.Compute(model, new DisentanglementOptions(Seed: config.Seed));
            progress?.Report(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"  disentanglement: MIG {disentanglement.Mig:F3}, FactorVAE {disentanglement.FactorVaeScore:F3}, β-VAE {disentanglement.BetaVaeScore:F3}"));
        }
        GapDecomposition? gap = null;
        if (config.GapExamples > 0)
        {
            using Tensor first = arange(Math.Min(config.GapExamples, data.Test.Count));
            using Dataset subset = data.Test.Subset(first);
            gap = InferenceGap.Decompose(model, subset, config.QuickGap ? GapOptions.Quick : new GapOptions(), config.Seed, cancellation: cancellation);
            progress?.Report(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"  inference gap ({subset.Count} examples): approximation {gap.ApproximationGap}, amortisation {gap.AmortisationGap} nats"));
        }
        if (!claim.IsHeld) throw new OperationCanceledException("The run's claim is another process's now.");
        string modelHash = store.SaveModel(config, model);
        RuntimeInfo runtime = RuntimeInfo.Capture();
        string vaelab = typeof(SweepRunner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";
        return new RunResult(config.Id, config, elbo.ElboNats, elbo.ElboStandardError, elbo.ReconstructionLogLikelihoodNats, elbo.KlNats,
            elbo.DistortionNats, logLikelihood?.LogLikelihoodNats ?? double.NaN, logLikelihood?.MonteCarloStandardError ?? double.NaN,
            active, klPerDimension, history.Select(h => h.TrainElboNats).ToArray(), history.Select(h => h.ValidationElboNats).ToArray(),
            earlierSeconds + clock.Elapsed.TotalSeconds, data.Description,
            $"VaeLab {vaelab}, TorchSharp {runtime.TorchSharpVersion}, libtorch {runtime.LibTorchVersion}, {runtime.Threads} threads", DateTime.UtcNow)
        {
            Disentanglement = disentanglement,
            Treatment = elbo.Treatment,
            Gap = gap,
            Strategy = trainer.Strategy,
            ModelSha256 = modelHash,
        };
    }

    /// <summary>The data a sweep trains and tests on, cut to its example limits.</summary>
    public static DataChoice LoadData(SweepSpec spec)
    {
        // The shapes grid holds out its test points itself and takes the example limits as its split sizes.
        if (spec.Data == SweepData.Shapes)
            return ShapesGrid.Split(spec.TestExamples ?? ShapesTestPoints, ShapesDataSeed, spec.TrainExamples);
        DataChoice full = FashionMnist.Load(spec.DataDirectory);
        if (spec.TrainExamples is null && spec.TestExamples is null) return full;
        using (full)
        {
            Dataset train = Take(full.Train, spec.TrainExamples), test = Take(full.Test, spec.TestExamples);
            return new DataChoice(train, test, $"{full.Description}; first {train.Count:N0} training and {test.Count:N0} test examples");
        }
    }

    static Dataset Take(Dataset data, int? count)
    {
        using Tensor indices = arange(Math.Min(count ?? data.Count, data.Count));
        return data.Subset(indices);
    }
}
