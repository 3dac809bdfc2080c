using System.Diagnostics;
using TorchSharp;
using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Evaluation.Inference;

/// <summary>
/// How long a decomposition will take, from a short measurement on this machine: one batch of decoder passes forward and
/// backward with respect to z (what AIS and the local fit repeat) and forward only (what importance sampling repeats), timed and
/// multiplied by the number of such passes the settings imply. Printed before a long run starts.
/// </summary>
public static class GapCost
{
    /// <summary>The estimated seconds of each part for <paramref name="examples"/> examples (the local part at its step limit: an upper bound).</summary>
    public static GapTimings Estimate(VariationalAutoencoder model, int examples, GapOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        options.Validate();
        AisOptions ais = options.AisSettings;
        LocalPosteriorOptions local = options.LocalSettings;
        int rows = ais.RowsPerBatch;
        double backward = SecondsPerRow(model, rows, withGradient: true);
        double forward = SecondsPerRow(model, rows, withGradient: false);
        // Importance sampling and q* draw every z through the posterior family: free for the diagonal Gaussian, a pass through
        // K layers (and, to fit q*, back) for a flow. AIS starts from the prior and never draws from q.
        bool diagonal = model.Posterior is Models.Posteriors.DiagonalPosterior;
        double drawBackward = diagonal ? 0 : PosteriorSecondsPerRow(model, rows, withGradient: true);
        double drawForward = diagonal ? 0 : PosteriorSecondsPerRow(model, rows, withGradient: false);
        double aisSeconds = (double)examples * ais.DecoderPassesPerExample * backward;
        double isSeconds = (double)examples * options.ImportanceSamples * (forward + drawForward);
        double localSeconds = (double)examples * ((double)local.MaxSteps * local.SamplesPerStep * (backward + drawBackward)
            + 2.0 * local.EvaluationSamples * (forward + drawForward));
        return new GapTimings(isSeconds, aisSeconds, localSeconds);
    }

    // Seconds per row of one draw z with its log q(z|x) from the posterior family (and, with the gradient, back to λ), median of
    // five timed passes after a warm-up.
    static double PosteriorSecondsPerRow(VariationalAutoencoder model, int rows, bool withGradient)
    {
        model.eval();
        using var frozen = new FrozenParameters(model);
        var parameter = model.parameters().First();
        using var generator = new Generator(0);
        using var scope = NewDisposeScope();
        Tensor lambda;
        using (no_grad())
        {
            Tensor z0 = randn(new long[] { rows, model.LatentDimensions }, parameter.dtype, parameter.device, generator: generator);
            lambda = model.Encode(model.Likelihood.Sample(model.Decode(z0), generator));
        }
        Tensor epsilon = randn(new long[] { rows, model.LatentDimensions }, parameter.dtype, parameter.device, generator: generator);
        return MedianSeconds(() =>
        {
            if (withGradient)
            {
                using var enable = enable_grad();
                Tensor leaf = lambda.detach().requires_grad_(true);
                var (z, logQ) = model.Posterior.SampleWithLogDensity(leaf, epsilon);
                autograd.grad([z.sum().add(logQ.sum())], [leaf]);
            }
            else
            {
                using var noGrad = no_grad();
                model.Posterior.SampleWithLogDensity(lambda, epsilon).LogDensity.sum().to_type(ScalarType.Float64).item<double>();
            }
        }) / rows;
    }

    // Seconds per row of one decoder pass (and the likelihood), median of five timed passes after a warm-up.
    static double SecondsPerRow(VariationalAutoencoder model, int rows, bool withGradient)
    {
        model.eval();
        using var frozen = new FrozenParameters(model);
        var parameter = model.parameters().First();
        using var generator = new Generator(0);
        using var scope = NewDisposeScope();
        Tensor z = randn(new long[] { rows, model.LatentDimensions }, parameter.dtype, parameter.device, generator: generator);
        Tensor x;
        using (no_grad())
            x = model.Likelihood.Sample(model.Decode(z), generator);
        return MedianSeconds(() =>
        {
            if (withGradient)
            {
                using var enable = enable_grad();
                Tensor leaf = z.detach().requires_grad_(true);
                Tensor logLikelihood = model.Likelihood.LogProb(x, model.Decode(leaf));
                autograd.grad([logLikelihood.sum()], [leaf]);
            }
            else
            {
                using var noGrad = no_grad();
                model.Likelihood.LogProb(x, model.Decode(z)).sum().to_type(ScalarType.Float64).item<double>();
            }
        }) / rows;
    }

    // The median of five timed runs of a pass after one warm-up, each in its own dispose scope.
    static double MedianSeconds(Action pass)
    {
        var times = new List<double>();
        for (int i = 0; i < 6; i++)
        {
            using var inner = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            pass();
            if (i > 0) times.Add(clock.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
