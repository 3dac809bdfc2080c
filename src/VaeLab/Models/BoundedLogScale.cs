using TorchSharp;
using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// The one home of a learned scale's bound, shared by the Gaussian and the discretised likelihoods: log σ = min + (max − min)·sigmoid(raw),
/// σ from 0.001 to 10, so a density cannot run off to +∞ by shrinking σ on a pixel that is always 0, and gradients never
/// vanish at a hard clamp.
/// </summary>
public static class BoundedLogScale
{
    /// <summary>Smallest log σ a learned scale can take (σ = 0.001).</summary>
    public static readonly double Min = Math.Log(1e-3);

    /// <summary>Largest log σ a learned scale can take (σ = 10).</summary>
    public static readonly double Max = Math.Log(10);

    static readonly Scalar Width = Max - Min, Low = Min;   // made once: implicit Scalars are freed only by the finalizer

    /// <summary>log σ of a raw parameter or decoder output.</summary>
    public static Tensor FromRaw(Tensor raw)
    {
        using Tensor probability = raw.sigmoid();
        using Tensor scaled = probability.mul(Width);
        return scaled.add(Low);
    }

    /// <summary>The raw value whose bounded log σ is <paramref name="logScale"/> (strictly inside the bounds).</summary>
    public static double RawFor(double logScale)
    {
        double p = (logScale - Min) / (Max - Min);
        return Math.Log(p / (1 - p));
    }

    /// <summary>
    /// The raw parameter of a learned scale, initialised so that its bounded σ is <paramref name="initialSigma"/>: one value
    /// shared by all dimensions ([1]) or one per dimension ([D]); null for a fixed scale or one the decoder outputs.
    /// </summary>
    public static TorchSharp.Modules.Parameter? NewParameter(GaussianVariance mode, long dimensions, double initialSigma)
    {
        double raw = RawFor(Math.Log(initialSigma));
        return mode switch
        {
            GaussianVariance.LearnedShared => new TorchSharp.Modules.Parameter(full(new long[] { 1 }, raw, ScalarType.Float32)),
            GaussianVariance.LearnedPerDimension => new TorchSharp.Modules.Parameter(full(new long[] { dimensions }, raw, ScalarType.Float32)),
            _ => null,
        };
    }

    /// <summary>Checks that a fixed or initial σ lies within the bounds.</summary>
    /// <exception cref="ArgumentOutOfRangeException">σ outside [0.001, 10].</exception>
    public static void Validate(double sigma, string parameterName)
    {
        if (!(sigma >= 1e-3 && sigma <= 10))
            throw new ArgumentOutOfRangeException(parameterName, sigma, "σ must be between 0.001 and 10 (log σ is bounded to that range).");
    }
}
