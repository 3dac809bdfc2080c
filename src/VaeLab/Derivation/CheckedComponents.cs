using VaeLab.Models;

namespace VaeLab.Derivation;

/// <summary>
/// What the derivation checks run: by default the library's own encoder, decoder and likelihood, exactly as the
/// library builds them. Every VAE and every likelihood a check builds passes through here, so a test (or a reader
/// who wants to watch a check fail) can hand in substitutes wrapped around them — a likelihood with a dropped
/// constant, an encoder that returns log σ for log σ² — and see which rows catch them. The static formulas
/// (<see cref="DiagonalGaussian"/>, <c>GaussianKl</c>, <c>Elbo</c>, the importance-weighted bound, the evaluator)
/// are always the library's: wrong versions of those are planted in the source (docs/derivation.md).
/// </summary>
/// <param name="Encoder">Replaces each encoder (null: the library's).</param>
/// <param name="Decoder">Replaces each decoder network (null: the library's).</param>
/// <param name="Likelihood">Replaces each likelihood (null: the library's).</param>
public sealed record CheckedComponents(
    Func<Encoder, Encoder>? Encoder = null,
    Func<Decoder, Decoder>? Decoder = null,
    Func<Likelihood, Likelihood>? Likelihood = null)
{
    /// <summary>The library's own components, unchanged.</summary>
    public static CheckedComponents Library { get; } = new();

    /// <summary>The model with its parts replaced where a substitute is given (the same model when none is).</summary>
    public VariationalAutoencoder Apply(VariationalAutoencoder model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (Encoder is null && Decoder is null && Likelihood is null) return model;
        return new VariationalAutoencoder(Encoder?.Invoke(model.Encoder) ?? model.Encoder, Decoder?.Invoke(model.Decoder) ?? model.Decoder,
            Apply(model.Likelihood), model.InputShape.ToArray(), model.Posterior);
    }

    /// <summary>The likelihood, or its substitute.</summary>
    public Likelihood Apply(Likelihood likelihood) => Likelihood?.Invoke(likelihood) ?? likelihood;
}
