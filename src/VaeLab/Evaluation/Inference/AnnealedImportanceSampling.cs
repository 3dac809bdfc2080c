using System.Diagnostics;
using TorchSharp;
using VaeLab.Data;
using VaeLab.Models;
using VaeLab.Runtime;
using static TorchSharp.torch;

namespace VaeLab.Evaluation.Inference;

/// <summary>
/// Annealed importance sampling of log p(x) (Neal 2001), as Wu, Burda, Salakhutdinov and Grosse (2017) use it for decoder
/// models: chains start at z ~ p(z), follow the geometric path f_t(z) = p(z) p(x|z)^{β_t} on a sigmoid schedule with one HMC
/// transition per intermediate distribution, and collect log w = Σ_t (β_t − β_{t−1}) log p(x|z_{t−1}). E[w] = p(x), so the
/// log-mean-exp over chains is a stochastic lower bound that tightens as distributions are added. Run in reverse from an exact
/// posterior sample, the same path gives E[w] = 1/p(x), hence an upper bound (<see cref="BidirectionalMonteCarlo"/>).
/// Any decoder and likelihood: gradients are autograd of the model's own. Batched over examples × chains; deterministic for a seed.
/// </summary>
public static class AnnealedImportanceSampling
{
    /// <summary>Forward AIS for the examples <paramref name="x"/> [N, ...] as given (no dequantisation): a lower bound on log p(x).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Settings out of range (<see cref="AisOptions.Validate"/>).</exception>
    public static AisEstimate Forward(VariationalAutoencoder model, Tensor x, AisOptions? options = null, Generator? generator = null,
        IProgress<InferenceProgress>? progress = null, CancellationToken cancellation = default) =>
        Run(model, x, null, options ?? new AisOptions(), generator, progress, cancellation);

    /// <summary>
    /// Reverse AIS from exact posterior samples <paramref name="posteriorZ"/> [N, d] of <paramref name="x"/> (the latents that
    /// generated simulated data): −log-mean-exp of the reverse weights, a stochastic upper bound on log p(x).
    /// </summary>
    /// <exception cref="ArgumentException">z that does not match x or the latent size.</exception>
    public static AisEstimate Reverse(VariationalAutoencoder model, Tensor x, Tensor posteriorZ, AisOptions? options = null, Generator? generator = null,
        IProgress<InferenceProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(posteriorZ);
        if (posteriorZ.dim() != 2 || posteriorZ.shape[0] != x.shape[0] || posteriorZ.shape[1] != model.LatentDimensions)
            throw new ArgumentException($"The posterior samples must be [{x.shape[0]}, {model.LatentDimensions}], got [{string.Join(", ", posteriorZ.shape)}].", nameof(posteriorZ));
        return Run(model, x, posteriorZ, options ?? new AisOptions(), generator, progress, cancellation);
    }

    /// <summary>
    /// Forward AIS over a data set, treated as the evaluator treats it (<see cref="PixelTreatment.Resolve"/>: dequantised with
    /// D·log 256 taken off for a density on 8-bit pixels), with a generator seeded from <paramref name="seed"/>.
    /// </summary>
    public static AisEstimate Estimate(VariationalAutoencoder model, Dataset data, AisOptions? options = null, long seed = 0, PixelTreatment? treatment = null,
        IProgress<InferenceProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        treatment ??= PixelTreatment.Resolve(model.Likelihood, data);
        using var generator = new Generator((ulong)seed);
        Tensor x;
        using (no_grad())
            x = treatment.Apply(data.Examples.to(TorchRuntime.Device), generator);
        using (x)
        {
            AisEstimate estimate = Run(model, x, null, options ?? new AisOptions(), generator, progress, cancellation);
            double jacobian = treatment.LogJacobianNats(data.Dimension);
            return estimate with { PerExampleNats = estimate.PerExampleNats.Select(v => v - jacobian).ToArray() };
        }
    }

    static AisEstimate Run(VariationalAutoencoder model, Tensor x, Tensor? posteriorZ, AisOptions options, Generator? generator,
        IProgress<InferenceProgress>? progress, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        options.Validate();
        if (x.shape[0] < 1) throw new ArgumentException("There are no examples to estimate.", nameof(x));
        var clock = Stopwatch.StartNew();
        using Generator? owned = generator is null ? new Generator(0) : null;
        generator ??= owned!;
        model.eval();
        using var frozen = new FrozenParameters(model);
        var parameter = model.parameters().First();
        double[] betas = AnnealingSchedule.Sigmoid(options.Distributions, options.ScheduleRadius);
        long n = x.shape[0], chains = options.Chains, perBatch = Math.Max(1, options.RowsPerBatch / chains);
        var values = new List<double>((int)n);
        var variances = new List<double>((int)n);
        double acceptance = 0;
        long transitions = 0, total = n * options.Distributions;
        bool reverse = posteriorZ is not null;
        for (long start = 0; start < n; start += perBatch)
        {
            using var scope = NewDisposeScope();
            long end = Math.Min(start + perBatch, n), rows = (end - start) * chains;
            Tensor xRows = x.slice(0, start, end, 1).view(end - start, -1).to(parameter.dtype).repeat_interleave(chains, 0);
            Tensor zStart = reverse
                ? posteriorZ!.slice(0, start, end, 1).to(parameter.dtype).to(parameter.device).repeat_interleave(chains, 0)
                : randn(new long[] { rows, model.LatentDimensions }, parameter.dtype, parameter.device, generator: generator);
            using var sampler = new HamiltonianMonteCarlo(model, xRows, zStart, options.InitialStepSize, options.LeapfrogSteps, options.TargetAcceptance, generator);
            Tensor logWeights = zeros(new long[] { rows }, ScalarType.Float64, parameter.device);
            int steps = options.Distributions;
            for (int i = 1; i <= steps; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                // Forward: w ×= f_t(z)/f_{t−1}(z) at z_{t−1}, then a transition leaving f_t invariant.
                // Reverse: w ×= f_{t−1}(z)/f_t(z) at z_t, then a transition leaving f_{t−1} invariant (t = T … 1).
                int t = reverse ? steps - i + 1 : i;
                double increment = reverse ? betas[t - 1] - betas[t] : betas[t] - betas[t - 1];
                using (Scalar alpha = increment)
                using (Tensor logLikelihood = sampler.LogLikelihood.to_type(ScalarType.Float64))
                    logWeights.add_(logLikelihood, alpha);
                if (i < steps) sampler.Step(reverse ? betas[t - 1] : betas[t]);
                if (progress is not null && (i % 25 == 0 || i == steps))
                    progress.Report(new InferenceProgress(reverse ? "reverse AIS" : "AIS", start * steps + (end - start) * i, total));
            }
            var (logMean, variance) = LogMeanExp.Of(logWeights.view(end - start, chains));
            Tensor estimate = reverse ? logMean.neg() : logMean;
            values.AddRange(estimate.cpu().data<double>().ToArray());
            variances.AddRange(variance.cpu().data<double>().ToArray());
            acceptance += sampler.AcceptanceSum;
            transitions += sampler.Transitions;
        }
        return new AisEstimate(reverse ? AisDirection.Reverse : AisDirection.Forward, options, model.InputDimensions, values.ToArray(), variances.ToArray(),
            transitions == 0 ? double.NaN : acceptance / transitions, clock.Elapsed.TotalSeconds);
    }
}
