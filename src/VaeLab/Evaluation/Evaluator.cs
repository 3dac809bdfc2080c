using System.Runtime.ExceptionServices;
using VaeLab.Data;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Runtime;
using static TorchSharp.torch;

namespace VaeLab.Evaluation;

/// <summary>
/// Held-out evaluation of a trained VAE: test ELBO and its terms, importance-sampled log p(x) with its
/// standard errors, KL per latent dimension (active units: <see cref="ActiveUnits"/>). Runs without gradients, in batches, with a
/// generator seeded from <c>seed</c> so the figures repeat.
/// </summary>
public static class Evaluator
{
    /// <summary>
    /// Test ELBO, reconstruction and KL over <paramref name="data"/>, with one z sample per example (or <paramref name="samples"/>).
    /// Batch b draws from a generator of its own (batch 0 seeded <paramref name="seed"/>), as <see cref="ImportanceSampledLogLikelihood"/> does.
    /// The data is treated as <paramref name="treatment"/> says (by default as <see cref="PixelTreatment.Resolve"/> decides for the
    /// model's likelihood: dequantised for a density on 8-bit pixels, with D·log 256 taken off, so the figures bound log P(image)).
    /// </summary>
    /// <exception cref="ArgumentException">A likelihood that cannot be evaluated on this data (<see cref="PixelTreatment.Resolve"/>).</exception>
    public static ElboSummary TestElbo(VariationalAutoencoder model, Dataset data, long seed = 0, int batchSize = 500, int samples = 1, PixelTreatment? treatment = null)
    {
        treatment ??= PixelTreatment.Resolve(model.Likelihood, data);
        using var noGrad = no_grad();
        model.eval();
        double jacobian = treatment.LogJacobianNats(data.Dimension);
        double sum = 0, sumSquares = 0, reconstruction = 0, kl = 0;
        int batch = 0;
        foreach (var (start, end) in Batches(data, batchSize))
        {
            using var scope = NewDisposeScope();
            // Each batch draws from a generator of its own, seeded as importance sampling seeds its batches: the same examples
            // get the same binarisation and dequantisation draws in both.
            using var generator = new Generator((ulong)BatchSeed(seed, batch++));
            Tensor x = treatment.Apply(data.Examples.slice(0, start, end, 1).to(TorchRuntime.Device), generator);
            using ElboEstimate terms = Elbo.Estimate(model, x, generator, samples);
            using Tensor elbo = terms.ElboNats().to_type(ScalarType.Float64) - jacobian;
            sum += elbo.sum().item<double>();
            sumSquares += elbo.square().sum().item<double>();
            reconstruction += (terms.ReconstructionLogLikelihoodNats.to_type(ScalarType.Float64) - jacobian).sum().item<double>();
            kl += terms.KlNats.to_type(ScalarType.Float64).sum().item<double>();
        }
        int n = data.Count;
        double mean = sum / n;
        double variance = Math.Max(sumSquares / n - mean * mean, 0) * n / Math.Max(n - 1, 1);
        return new ElboSummary(n, data.Dimension, mean, Math.Sqrt(variance / n), reconstruction / n, kl / n) { Treatment = treatment };
    }

    /// <summary>
    /// Importance-sampled log p(x) with <paramref name="k"/> samples per example (k = 5000 as in Burda et al.),
    /// processed <paramref name="chunk"/> samples at a time so memory stays bounded whatever k is.
    /// Each decoder pass sees batchSize × chunk rows: 2,000 with the defaults (4,000 ran 5× faster here than 50,000, whose
    /// [rows, D] temporaries no longer fit the caches; 2,000 on each of two threads beat 4,000 by 5–25 %, fewer page faults). Batch b (of <paramref name="batchSize"/> consecutive
    /// examples) draws from a generator of its own (batch 0 seeded <paramref name="seed"/>, the others a mix of it and b), and the batches are shared out between threads
    /// with single-threaded kernels, one per libtorch thread: the result does not depend on the number of threads.
    /// </summary>
    /// <remarks>The data is treated as in <see cref="TestElbo"/> (dequantised, with D·log L taken off, for a density on quantised pixels).</remarks>
    /// <exception cref="ArgumentOutOfRangeException">k, chunk or the batch size below 1.</exception>
    public static LogLikelihoodEstimate ImportanceSampledLogLikelihood(VariationalAutoencoder model, Dataset data, int k = 5000, long seed = 0, int batchSize = 20, int chunk = 100, PixelTreatment? treatment = null)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        if (chunk < 1) throw new ArgumentOutOfRangeException(nameof(chunk), chunk, "The chunk must hold at least one sample.");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "A batch holds at least one example.");
        treatment ??= PixelTreatment.Resolve(model.Likelihood, data);
        double jacobian = treatment.LogJacobianNats(data.Dimension);
        var batches = Batches(data, batchSize).ToArray();
        var logLikelihoods = new double[batches.Length][];
        var variances = new double[batches.Length];
        model.eval();
        OnEvaluationThreads(batches.Length, b =>
        {
            var (start, end) = batches[b];
            (logLikelihoods[b], variances[b]) = ImportanceSampledBatch(model, data, start, end, k, BatchSeed(seed, b), chunk, treatment, jacobian);
        });
        double[] perExample = logLikelihoods.SelectMany(v => v).ToArray();
        int n = data.Count;
        double average = perExample.Sum() / n;
        double sumSquares = perExample.Sum(v => v * v);
        double spread = Math.Max(sumSquares / n - average * average, 0) * n / Math.Max(n - 1, 1);
        return new LogLikelihoodEstimate(n, data.Dimension, k, average, Math.Sqrt(variances.Sum()) / n, Math.Sqrt(spread / n)) { Treatment = treatment, PerExampleNats = perExample };
    }

    // Runs evaluate(0 … count − 1) on threads of their own, each batch taken by the next free thread and each thread with an equal
    // share of the caller's libtorch threads (one each on two cores: each thread keeps its activations in its own core's caches,
    // where libtorch's two-thread kernels pass them between the cores). A new thread also gets a glibc arena of its own, which
    // keeps the resident set flat where the main thread's heap paid page faults or grew (docs/benchmarks.md, "Memory"). The
    // arenas keep what the batches free: once a second, the thread that finishes a batch hands it back (NativeHeap.Trim).
    static void OnEvaluationThreads(int count, Action<int> evaluate)
    {
        int threads = get_num_threads(), workers = Math.Max(1, Math.Min(threads, count)), next = -1;
        using var restore = TorchThreads.Keep();   // the workers' counts become libtorch's process-wide value: the caller's again after
        long lastTrim = System.Diagnostics.Stopwatch.GetTimestamp(), trimEvery = System.Diagnostics.Stopwatch.Frequency;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<ExceptionDispatchInfo>();
        var pool = Enumerable.Range(0, workers).Select(w => new Thread(() =>
        {
            using var share = TorchThreads.Use(Math.Max(1, threads / workers));
            for (int b = Interlocked.Increment(ref next); b < count && failures.IsEmpty; b = Interlocked.Increment(ref next))
            {
                try { evaluate(b); }
                catch (Exception e) { failures.Enqueue(ExceptionDispatchInfo.Capture(e)); }
                long now = System.Diagnostics.Stopwatch.GetTimestamp(), last = Interlocked.Read(ref lastTrim);
                if (now - last > trimEvery && Interlocked.CompareExchange(ref lastTrim, now, last) == last) NativeHeap.Trim();
            }
        }) { Name = $"VaeLab evaluation {w}", IsBackground = true }).ToArray();
        foreach (Thread thread in pool) thread.Start();
        foreach (Thread thread in pool) thread.Join();
        if (failures.TryDequeue(out var failure)) failure.Throw();
    }

    // The generator seed of batch b: the evaluation's seed for the first (one batch draws what LogWeights draws with that seed),
    // a SplitMix64 mix of (seed, b) for the others, so neighbouring seeds do not share streams between their batches.
    internal static long BatchSeed(long seed, int batch) =>
        batch == 0 ? seed : unchecked((long)Seeds.Mix(seed, batch, -1));

    // One batch of importance sampling with a generator of its own (so the result does not depend on how many threads share
    // the batches): log p̂(x) per example and the sum of their Monte Carlo variances.
    static (double[] LogLikelihoods, double Variance) ImportanceSampledBatch(VariationalAutoencoder model, Dataset data, long start, long end, int k, long seed, int chunk,
        PixelTreatment treatment, double jacobian)
    {
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed);
        using var scope = NewDisposeScope();
        Tensor x = treatment.Apply(data.Examples.slice(0, start, end, 1).to(TorchRuntime.Device), generator);
        Tensor flat = x.view(x.shape[0], -1);
        Tensor parameters = model.Encode(x);
        // Stream over chunks of samples, keeping per example: the running log-sum-exp of log w and of 2·log w.
        Tensor logSum = full(new long[] { x.shape[0] }, double.NegativeInfinity, ScalarType.Float64, x.device);
        Tensor logSumSquares = full(new long[] { x.shape[0] }, double.NegativeInfinity, ScalarType.Float64, x.device);
        for (int done = 0; done < k; done += chunk)
        {
            using var chunkScope = NewDisposeScope();
            int size = Math.Min(chunk, k - done);
            Tensor logWeights = ImportanceWeightedBound.LogWeights(model, flat, parameters, size, generator).to_type(ScalarType.Float64);
            logSum = stack([logSum, logWeights.logsumexp(0)]).logsumexp(0).MoveToOuterDisposeScope();
            logSumSquares = stack([logSumSquares, logWeights.mul(2).logsumexp(0)]).logsumexp(0).MoveToOuterDisposeScope();
        }
        // log p̂ = log Σw − log k, its Monte Carlo variance by the delta method.
        Tensor logLikelihood = logSum.sub(Math.Log(k) + jacobian);
        Tensor perExampleVariance = LogMeanExp.DeltaVariance(logSum, logSumSquares, k);
        return (logLikelihood.cpu().data<double>().ToArray(), perExampleVariance.sum().item<double>());
    }

    /// <summary>
    /// Mean analytic KL per latent dimension over <paramref name="data"/>, nats: where the rate goes. Empty when the model's posterior
    /// family has no such split (full covariance, flows: their KL is not a sum over dimensions), or its prior is not the standard normal.
    /// </summary>
    public static double[] KlPerDimension(VariationalAutoencoder model, Dataset data, int batchSize = 500)
    {
        using var noGrad = no_grad();
        model.eval();
        if (model.Posterior is not Models.Posteriors.DiagonalPosterior || !model.Prior.IsStandard) return [];
        var total = new double[model.LatentDimensions];
        foreach (var (start, end) in Batches(data, batchSize))
        {
            using var scope = NewDisposeScope();
            Tensor x = data.Examples.slice(0, start, end, 1).to(TorchRuntime.Device);
            var (mean, logVariance) = model.EncodeDiagonal(x);
            double[] batch = GaussianKl.PerDimension(mean, logVariance).to_type(ScalarType.Float64).sum([0]).data<double>().ToArray();
            for (int j = 0; j < total.Length; j++) total[j] += batch[j];
        }
        return total.Select(v => v / data.Count).ToArray();
    }

    // Consecutive [start, end) ranges of the data; the caller slices inside its own dispose scope.
    internal static IEnumerable<(long Start, long End)> Batches(Dataset data, int batchSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        for (long start = 0; start < data.Count; start += batchSize)
            yield return (start, Math.Min(start + batchSize, data.Count));
    }
}
