using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Evaluation.Inference;

/// <summary>
/// Bidirectional Monte Carlo (Grosse, Ghahramani and Adams 2015; Wu et al. 2017): on data simulated from the model, the latent
/// that generated each example is an exact posterior sample, so reverse AIS from it gives a stochastic upper bound on log p(x),
/// and forward AIS a lower bound. The two bracket log p(x); the bracket's width says how far the forward estimate can be off on
/// this model at these settings (on simulated data — real data may be harder).
/// </summary>
public static class BidirectionalMonteCarlo
{
    /// <summary>Simulates <paramref name="count"/> pairs z ~ p(z), x ~ p(x|z) from the model and brackets log p(x) for each.</summary>
    /// <exception cref="ArgumentOutOfRangeException">count below 1, or settings out of range.</exception>
    public static BdmcBracket Run(VariationalAutoencoder model, int count, AisOptions? options = null, long seed = 0, IProgress<InferenceProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Simulate at least one example.");
        using var generator = new Generator((ulong)seed);
        using var scope = NewDisposeScope();
        var (x, z) = Simulate(model, count, generator);
        return Run(model, x, z, options, generator, progress, cancellation);
    }

    /// <summary>Brackets log p(x) for given pairs (x, z) where each z is an exact posterior sample of its x.</summary>
    public static BdmcBracket Run(VariationalAutoencoder model, Tensor x, Tensor z, AisOptions? options = null, Generator? generator = null, IProgress<InferenceProgress>? progress = null, CancellationToken cancellation = default)
    {
        // One stream for both directions: their draws must differ.
        using Generator? owned = generator is null ? new Generator(0) : null;
        generator ??= owned!;
        AisEstimate lower = AnnealedImportanceSampling.Forward(model, x, options, generator, progress, cancellation);
        AisEstimate upper = AnnealedImportanceSampling.Reverse(model, x, z, options, generator, progress, cancellation);
        return new BdmcBracket(lower, upper);
    }

    /// <summary>Draws z ~ p(z) and x ~ p(x|z) with the model's decoder and likelihood: ([N, D], [N, d]).</summary>
    public static (Tensor X, Tensor Z) Simulate(VariationalAutoencoder model, int count, Generator generator)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        model.eval();
        var parameter = model.parameters().First();
        Tensor z = model.Prior.Sample(count, generator, parameter.dtype, parameter.device);
        Tensor x = model.Likelihood.Sample(model.Decode(z), generator);
        return (x.MoveToOuterDisposeScope(), z.MoveToOuterDisposeScope());
    }
}
