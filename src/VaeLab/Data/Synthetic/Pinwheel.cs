using static TorchSharp.torch;

namespace VaeLab.Data.Synthetic;

/// <summary>
/// The pinwheel: a 2-D toy set of curved arms (Johnson et al. 2016, "Composing graphical models with
/// neural networks"). Each point is a Gaussian draw (radial and tangential spread) shifted outwards,
/// then rotated by its arm's angle plus an amount that grows exponentially with the radius, which bends
/// the arms. A VAE with a 2-D latent has to learn that non-linear warp; small enough for tests in seconds.
/// </summary>
public static class Pinwheel
{
    /// <summary>Names of the factor columns: the arm index and the radial coordinate before the warp.</summary>
    public static IReadOnlyList<string> FactorNames { get; } = ["arm", "radius"];

    /// <summary>Generates <paramref name="count"/> points, deterministic for a seed.</summary>
    /// <param name="count">Number of points (spread over the arms as evenly as possible).</param>
    /// <param name="seed">Seed of the generator used for every draw.</param>
    /// <param name="arms">Number of arms (classes).</param>
    /// <param name="radialStd">Spread along an arm.</param>
    /// <param name="tangentialStd">Spread across an arm.</param>
    /// <param name="rate">How strongly the arms bend.</param>
    /// <returns>Points [N, 2] (float32), labels = arm, factors [arm, radius].</returns>
    /// <exception cref="ArgumentOutOfRangeException">A count or arm number below 1, or a non-positive spread.</exception>
    public static Dataset Generate(int count, long seed, int arms = 5, double radialStd = 0.3, double tangentialStd = 0.05, double rate = 0.25)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "The count must be at least 1.");
        if (arms < 1) throw new ArgumentOutOfRangeException(nameof(arms), arms, "The number of arms must be at least 1.");
        if (!(radialStd > 0) || !(tangentialStd > 0))
            throw new ArgumentOutOfRangeException(nameof(radialStd), "Both spreads must be positive.");
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        Tensor label = arange(count, dtype: ScalarType.Int64) % arms;
        Tensor noise = randn(new long[] { count, 2 }, dtype: ScalarType.Float64, generator: generator);
        Tensor radial = noise[.., 0] * radialStd + 1.0;
        Tensor tangential = noise[.., 1] * tangentialStd;
        Tensor angle = label.to_type(ScalarType.Float64) * (2 * Math.PI / arms) + rate * radial.exp();
        Tensor cos = angle.cos(), sin = angle.sin();
        Tensor points = stack(new[] { cos * radial - sin * tangential, sin * radial + cos * tangential }, 1);
        Tensor factors = stack(new[] { label.to_type(ScalarType.Float64), radial }, 1);
        return new Dataset($"pinwheel ({arms} arms)", $"Pinwheel.Generate(count: {count}, seed: {seed})",
            points.to_type(ScalarType.Float32).MoveToOuterDisposeScope(), label.MoveToOuterDisposeScope(),
            factors.to_type(ScalarType.Float32).MoveToOuterDisposeScope(), FactorNames);
    }
}
