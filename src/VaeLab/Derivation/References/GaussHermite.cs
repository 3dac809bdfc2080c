using static TorchSharp.torch;

namespace VaeLab.Derivation.References;

/// <summary>
/// Gauss–Hermite quadrature: ∫ e^(−t²) f(t) dt ≈ Σ_i w_i f(t_i), exact for polynomials of degree below 2n.
/// Nodes and weights by the Golub–Welsch method (eigen-decomposition of the Jacobi matrix), float64.
/// </summary>
public static class GaussHermite
{
    /// <summary>The n nodes t_i and weights w_i.</summary>
    public static (double[] Nodes, double[] Weights) Rule(int n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "At least one node.");
        using var scope = NewDisposeScope();
        Tensor jacobi = zeros(n, n, dtype: ScalarType.Float64);
        for (int i = 1; i < n; i++)
        {
            double offDiagonal = Math.Sqrt(i / 2.0);
            jacobi[i, i - 1] = offDiagonal;
            jacobi[i - 1, i] = offDiagonal;
        }
        var (values, vectors) = linalg.eigh(jacobi);
        double[] nodes = values.data<double>().ToArray();
        double[] weights = vectors[0].square().mul(Math.Sqrt(Math.PI)).data<double>().ToArray();
        return (nodes, weights);
    }

    /// <summary>
    /// Points and weights for E_{z ~ N(μ, diag σ²)}[f(z)] with a tensor-product rule of n nodes per dimension:
    /// z = μ + √2 σ t, weight Π w / π^(d/2). Returns points [n^d, d] (float64) and weights [n^d] summing to 1.
    /// </summary>
    public static (Tensor Points, Tensor Weights) ForDiagonalGaussian(Tensor mean, Tensor logVariance, int n)
    {
        var (nodes, weights) = Rule(n);
        int d = (int)mean.shape[0];
        using var scope = NewDisposeScope();
        Tensor t = tensor(nodes), w = tensor(weights).div(Math.Sqrt(Math.PI));
        Tensor[] grids = meshgrid(Enumerable.Repeat(t, d).ToArray(), indexing: "ij");
        Tensor[] weightGrids = meshgrid(Enumerable.Repeat(w, d).ToArray(), indexing: "ij");
        Tensor points = stack(grids.Select(g => g.reshape(-1)).ToArray(), 1);
        Tensor joint = stack(weightGrids.Select(g => g.reshape(-1)).ToArray(), 1).prod(1);
        Tensor z = points.mul(logVariance.to_type(ScalarType.Float64).mul(0.5).exp().mul(Math.Sqrt(2))).add(mean.to_type(ScalarType.Float64));
        return (z.MoveToOuterDisposeScope(), joint.MoveToOuterDisposeScope());
    }
}
