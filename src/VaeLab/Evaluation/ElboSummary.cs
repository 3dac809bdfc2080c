namespace VaeLab.Evaluation;

/// <summary>Test-set ELBO and its terms, per example in nats, and in bits per dimension.</summary>
/// <param name="Examples">Examples evaluated.</param>
/// <param name="Dimensions">Data dimensions D per example.</param>
/// <param name="ElboNats">Mean ELBO.</param>
/// <param name="ElboStandardError">Standard error of the mean ELBO over examples (includes the z-sampling noise).</param>
/// <param name="ReconstructionLogLikelihoodNats">Mean E_q[log p(x|z)].</param>
/// <param name="KlNats">Mean KL(q(z|x) ‖ p(z)): the rate.</param>
public sealed record ElboSummary(int Examples, long Dimensions, double ElboNats, double ElboStandardError, double ReconstructionLogLikelihoodNats, double KlNats)
{
    /// <summary>How the data was treated and what the figures mean (dequantised bound, probability, or grey-level cross-entropy); null when unknown.</summary>
    public VaeLab.Models.PixelTreatment? Treatment { get; init; }

    /// <summary>Mean −E_q[log p(x|z)]: the distortion.</summary>
    public double DistortionNats => -ReconstructionLogLikelihoodNats;

    /// <summary>The rate of the rate–distortion plane: mean KL, nats.</summary>
    public double RateNats => KlNats;

    /// <summary>−ELBO in bits per dimension: −ELBO / (D ln 2); on dequantised 8-bit data a bound on −log₂ P(image) per pixel, never negative.</summary>
    public double NegativeElboBitsPerDimension => BitsPerDimension.FromLogLikelihoodNats(ElboNats, Dimensions);
}
