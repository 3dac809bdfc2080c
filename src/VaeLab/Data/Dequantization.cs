using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace VaeLab.Data;

/// <summary>Whether quantised data (8-bit pixels) is turned into continuous values before a likelihood sees it.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Dequantization>))]
public enum Dequantization
{
    /// <summary>Uniform dequantisation exactly when a continuous density meets quantised data; nothing otherwise.</summary>
    Auto,

    /// <summary>The stored values as they are (refused for a continuous density on quantised data: see <see cref="Models.PixelTreatment"/>).</summary>
    None,

    /// <summary>x̃ = (k + u) / L with u ~ U[0, 1), fresh per example and epoch (Theis, van den Oord and Bethge 2016).</summary>
    Uniform,
}

/// <summary>
/// The one home of the pixel-bin arithmetic shared by uniform dequantisation and the discretised likelihoods. Data with
/// L levels stores value k as k/(L − 1); in the continuous coordinate y ∈ [0, 1) that the densities live in, value k owns the
/// bin [k/L, (k + 1)/L). Uniform noise within the bin turns a density p(y) on [0, 1)^D into a bound on the probability of
/// the discrete image: log P(k) ≥ E_u[log p((k + u)/L)] − D log L (Jensen), so −log₂ of it per dimension is never negative.
/// </summary>
public static class PixelBins
{
    /// <summary>The level k ∈ {0, …, L − 1} of stored values x = k/(L − 1) (rounded and clamped: float storage is not exact).</summary>
    public static Tensor Level(Tensor x, int levels)
    {
        // Explicit Scalars, disposed here: an implicit double → Scalar conversion leaves a native Scalar to the finalizer.
        using Scalar last = (double)(levels - 1), zero = 0.0;
        using Tensor scaled = x.mul(last);
        using Tensor rounded = scaled.round();
        return rounded.clamp(zero, last);
    }

    /// <summary>The lower edge k/L of level k's bin in the continuous coordinate.</summary>
    public static Tensor LowerEdge(Tensor level, int levels)
    {
        using Scalar count = (double)levels;
        return level.div(count);
    }

    /// <summary>The upper edge (k + 1)/L of level k's bin.</summary>
    public static Tensor UpperEdge(Tensor level, int levels)
    {
        using Scalar count = (double)levels, one = 1.0;
        using Tensor next = level.add(one);
        return next.div(count);
    }

    /// <summary>
    /// Uniformly dequantised values x̃ = (k + u)/L, u ~ U[0, 1) drawn from <paramref name="generator"/>, in the dtype of
    /// <paramref name="x"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 2 levels.</exception>
    public static Tensor Dequantize(Tensor x, int levels, Generator? generator)
    {
        if (levels < 2) throw new ArgumentOutOfRangeException(nameof(levels), levels, "Quantised data has at least 2 levels.");
        using var scope = NewDisposeScope();
        using Scalar count = (double)levels;
        Tensor u = rand(x.shape, x.dtype, x.device, generator: generator);
        return LowerEdge(Level(x, levels), levels).add(u.div(count)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// D·log L, nats: the change of variables from the density of x̃ to the mass of the discrete image. Subtracted from
    /// every log-likelihood of dequantised data (and added to −log p).
    /// </summary>
    public static double LogJacobianNats(long dimensions, int levels) => dimensions * Math.Log(levels);
}
