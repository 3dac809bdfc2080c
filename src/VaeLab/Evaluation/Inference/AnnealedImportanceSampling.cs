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
    /// <summary>
    /// Forward AIS for the examples <paramref name="x"/> [N, ...] as given (no dequantisation): a lower bound on log p(x).
    /// Without a <paramref name="generator"/> every call draws the same numbers (a generator seeded 0): pass one to repeat runs.
    /// </summary>
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
        // The chains start from N(0, I) and HMC's potential holds ½‖z‖²: another prior would give a wrong log p(x), so it is refused.
        if (!model.Prior.IsStandard)
            throw new ArgumentException($"AIS anneals from the standard normal prior; this model's prior is {model.Prior.Spec}. Use importance sampling (Evaluator.ImportanceSampledLogLikelihood), which uses the model's prior.", nameof(model));
        options.Validate();
        if (x.shape[0] < 1) throw new ArgumentException("There are no examples to estimate.", nameof(x));
        if (x.numel() != x.shape[0] * model.InputDimensions)
            throw new ArgumentException($"x must hold {model.InputDimensions} values per example for this model ({string.Join("x", model.InputShape)}), got shape [{string.Join(", ", x.shape)}].", nameof(x));
        var clock = Stopwatch.StartNew();
        using Generator? owned = generator is null ? new Generator(0) : null;
        generator ??= owned!;
        model.eval();
        using var frozen = new FrozenParameters(model);
        var parameter = model.parameters().First();
        double[] betas = AnnealingSchedule.Sigmoid(options.Distributions, options.ScheduleRadius);
        long n = x.shape[0], chains = options.Chains, pilots = options.PilotChains, width = chains + pilots, perBatch = Math.Max(1, options.RowsPerBatch / width);
        var values = new List<double>((int)n);
        var variances = new List<double>((int)n);
        double acceptance = 0;
        bool reverse = posteriorZ is not null;
        long transitions = 0, total = n * options.Distributions * (reverse ? 2 : 1);
        int steps = options.Distributions;
        for (long start = 0; start < n; start += perBatch)
        {
            using var scope = NewDisposeScope();
            long end = Math.Min(start + perBatch, n), examples = end - start;
            Tensor xBatch = x.slice(0, start, end, 1).reshape(examples, -1).to(parameter.dtype).to(parameter.device);
            Tensor logWeights;
            if (!reverse)
            {
                // Pilots first in each example's block of rows: [p_1 … p_P, c_1 … c_C].
                Tensor zStart = randn(new long[] { examples * width, model.LatentDimensions }, parameter.dtype, parameter.device, generator: generator);
                using var sampler = new HamiltonianMonteCarlo(model, xBatch.repeat_interleave(width, 0), zStart, options.InitialStepSize, options.LeapfrogSteps, options.TargetAcceptance, generator);
                logWeights = zeros(new long[] { examples * width }, ScalarType.Float64, parameter.device);
                for (int t = 1; t <= steps; t++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    // w ×= f_t(z)/f_{t−1}(z) at z_{t−1}, then a transition leaving f_t invariant.
                    Accumulate(logWeights, sampler.LogLikelihood, betas[t] - betas[t - 1]);
                    if (t < steps)
                    {
                        using (Tensor pilotStep = PilotStepSize(sampler.StepSize, examples, pilots))
                        using (Tensor own = sampler.StepSize.view(examples, width).slice(1, 0, pilots, 1))
                        using (Tensor stepSizes = cat([own, pilotStep.expand(examples, chains)], 1))
                            sampler.SetStepSizes(stepSizes.reshape(-1, 1));
                        sampler.Step(betas[t]);
                    }
                    Report(progress, "AIS", start * steps + examples * t, total, t, steps);
                }
                logWeights = logWeights.view(examples, width).slice(1, pilots, width, 1);
                acceptance += sampler.AcceptanceSum;
                transitions += sampler.Transitions;
            }
            else
            {
                // The pilots' step-size schedule from a forward pass, then the kept chains backwards along it.
                Tensor[] schedule = PilotSchedule(model, xBatch, betas, options, generator, progress, start, total, cancellation);
                Tensor zStart = posteriorZ!.slice(0, start, end, 1).to(parameter.dtype).to(parameter.device).repeat_interleave(chains, 0);
                using var sampler = new HamiltonianMonteCarlo(model, xBatch.repeat_interleave(chains, 0), zStart, options.InitialStepSize, options.LeapfrogSteps, options.TargetAcceptance, generator);
                logWeights = zeros(new long[] { examples * chains }, ScalarType.Float64, parameter.device);
                for (int i = 1; i <= steps; i++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    // t = T … 1: w ×= f_{t−1}(z)/f_t(z) at z_t, then a transition leaving f_{t−1} invariant.
                    int t = steps - i + 1;
                    Accumulate(logWeights, sampler.LogLikelihood, betas[t - 1] - betas[t]);
                    if (i < steps)
                    {
                        using (Tensor stepSizes = schedule[t - 2].repeat_interleave(chains, 0))   // the pilots' step at β_{t−1}
                            sampler.SetStepSizes(stepSizes.reshape(-1, 1));
                        sampler.Step(betas[t - 1]);
                    }
                    Report(progress, "reverse AIS", start * steps * 2 + examples * (steps + i), total, i, steps);
                }
                logWeights = logWeights.view(examples, chains);
                acceptance += sampler.AcceptanceSum;
                transitions += sampler.Transitions;
                foreach (Tensor s in schedule) s.Dispose();
            }
            var (logMean, variance) = LogMeanExp.Of(logWeights);
            Tensor estimate = reverse ? logMean.neg() : logMean;
            values.AddRange(estimate.cpu().data<double>().ToArray());
            variances.AddRange(variance.cpu().data<double>().ToArray());
        }
        return new AisEstimate(reverse ? AisDirection.Reverse : AisDirection.Forward, options, model.InputDimensions, values.ToArray(), variances.ToArray(),
            transitions == 0 ? double.NaN : acceptance / transitions, clock.Elapsed.TotalSeconds);
    }

    // log w += increment · log p(x|z), in float64.
    static void Accumulate(Tensor logWeights, Tensor logLikelihood, double increment)
    {
        using Scalar alpha = increment;
        using Tensor wide = logLikelihood.to_type(ScalarType.Float64);
        logWeights.add_(wide, alpha);
    }

    // The pilots' geometric-mean step size per example, [examples, 1], from the step sizes of rows [p_1 … p_P, c_1 … c_C] per example.
    static Tensor PilotStepSize(Tensor stepSizes, long examples, long pilots)
    {
        using var scope = NewDisposeScope();
        long width = stepSizes.shape[0] / examples;
        return stepSizes.view(examples, width).slice(1, 0, pilots, 1).log().mean([1], keepdim: true).exp().MoveToOuterDisposeScope();
    }

    // A forward pass of the pilot chains alone: the step size they give each transition t = 1 … T − 1 ([examples] each; index t − 1).
    static Tensor[] PilotSchedule(VariationalAutoencoder model, Tensor xBatch, double[] betas, AisOptions options, Generator generator,
        IProgress<InferenceProgress>? progress, long start, long total, CancellationToken cancellation)
    {
        var parameter = model.parameters().First();
        long examples = xBatch.shape[0], pilots = options.PilotChains;
        int steps = options.Distributions;
        var schedule = new Tensor[Math.Max(steps - 1, 0)];
        using var scope = NewDisposeScope();
        Tensor zStart = randn(new long[] { examples * pilots, model.LatentDimensions }, parameter.dtype, parameter.device, generator: generator);
        using var sampler = new HamiltonianMonteCarlo(model, xBatch.repeat_interleave(pilots, 0), zStart, options.InitialStepSize, options.LeapfrogSteps, options.TargetAcceptance, generator);
        for (int t = 1; t < steps; t++)
        {
            cancellation.ThrowIfCancellationRequested();
            using (Tensor step = PilotStepSize(sampler.StepSize, examples, pilots))
                schedule[t - 1] = step.view(examples).clone().DetachFromDisposeScope();
            sampler.Step(betas[t]);
            Report(progress, "reverse AIS", start * steps * 2 + examples * t, total, t, steps);
        }
        return schedule;
    }

    static void Report(IProgress<InferenceProgress>? progress, string stage, long done, long total, int t, int steps)
    {
        if (progress is not null && (t % 25 == 0 || t == steps))
            progress.Report(new InferenceProgress(stage, done, total));
    }
}
