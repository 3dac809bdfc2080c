using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// A sampler against its density on a 2-D grid: the moments E z₁, E z₂, E z₁², E z₂², E z₁z₂ of the draws against the same moments
/// of the gridded density, the worst of the five in standard errors made one row (tolerance 4 standard errors). Checks 10 and 11 use it.
/// </summary>
internal static class SamplerMoments
{
    /// <summary>The row for draws [S, 2] against the density on grid points [G, 2] (cell area <paramref name="cell"/>, total mass <paramref name="mass"/>).</summary>
    public static DerivationRow Row(string check, string subject, Tensor draws, Tensor grid, Tensor density, double cell, double mass, string method)
    {
        using var scope = NewDisposeScope();
        long samples = draws.shape[0];
        Tensor z1 = draws.select(1, 0), z2 = draws.select(1, 1), g1 = grid.select(1, 0), g2 = grid.select(1, 1);
        (string Name, Tensor Drawn, Tensor OnGrid)[] statistics =
            [("E z₁", z1, g1), ("E z₂", z2, g2), ("E z₁²", z1.square(), g1.square()), ("E z₂²", z2.square(), g2.square()), ("E z₁z₂", z1.mul(z2), g1.mul(g2))];
        double worstRatio = -1, left = 0, right = 0, tolerance = 0;
        string worst = "";
        foreach (var (name, drawn, onGrid) in statistics)
        {
            double mean = drawn.mean().item<double>(), se = drawn.std().item<double>() / Math.Sqrt(samples);
            double quadrature = density.mul(onGrid).sum().item<double>() * cell / mass;
            double ratio = Math.Abs(mean - quadrature) / se;
            if (ratio > worstRatio) { worstRatio = ratio; left = mean; right = quadrature; tolerance = 4 * se; worst = name; }
        }
        return new DerivationRow(check, $"{subject}: moments of Sample = moments of exp(LogDensity) (worst of E z, E z², E z₁z₂: {worst})", left, right, Math.Abs(left - right), tolerance,
            $"{samples:N0} draws of {method} against the same grid; tolerance 4 standard errors", Math.Abs(left - right) <= tolerance);
    }
}
