using static TorchSharp.torch;

namespace VaeLab.Models.Posteriors;

/// <summary>
/// q(z|x) = N(μ, Σ) with Σ = L Lᵀ, L lower-triangular with a positive diagonal. λ = [μ, log σ², the strictly-lower entries of L
/// row by row] (P = 2d + d(d−1)/2), and L_jj = σ_j = exp(½ log σ²_j), so the diagonal is positive whatever the encoder says and
/// the family contains the diagonal one (off-diagonal 0). z = μ + L ε; log q(z) = log N(ε; 0, I) − Σ_j log L_jj;
/// KL(q ‖ N(0, I)) = ½ (tr Σ + μᵀμ − d − log det Σ) with tr Σ = Σ_ij L_ij² and log det Σ = Σ_j log σ²_j.
/// </summary>
public sealed class FullCovariancePosterior : PosteriorFamily
{
    readonly long offDiagonal;
    readonly long[] lowerPositions;   // the flat index i·d + j of each strictly-lower entry, in the order λ holds them

    /// <summary>Creates the family for <paramref name="latentDimensions"/> latent dimensions.</summary>
    public FullCovariancePosterior(long latentDimensions) : base(nameof(FullCovariancePosterior), latentDimensions)
    {
        long d = latentDimensions;
        offDiagonal = d * (d - 1) / 2;
        var positions = new List<long>();
        for (long i = 0; i < d; i++)
            for (long j = 0; j < i; j++)
                positions.Add(i * d + j);
        lowerPositions = positions.ToArray();
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override PosteriorSpec Spec => new(PosteriorKind.FullCovariance);

    /// <inheritdoc/>
    public override string Signature => "full-covariance";

    /// <summary>The Cholesky factor L ([N, d, d], lower-triangular, L_jj = exp(½ log σ²_j)) of each example's covariance.</summary>
    public Tensor CholeskyFactor(Tensor parameters)
    {
        using var scope = NewDisposeScope();
        long n = parameters.shape[0], d = LatentDimensions;
        Tensor diagonal = DiagonalGaussian.StandardDeviation(LogVariance(parameters)).diag_embed();
        if (offDiagonal == 0) return diagonal.MoveToOuterDisposeScope();
        Tensor entries = parameters.narrow(-1, 2 * d, offDiagonal);
        Tensor index = tensor(lowerPositions, device: parameters.device).expand(n, offDiagonal);
        Tensor lower = zeros(new long[] { n, d * d }, parameters.dtype, parameters.device).scatter(1, index, entries).view(n, d, d);
        return lower.add(diagonal).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor Sample(Tensor parameters, Tensor epsilon)
    {
        using var scope = NewDisposeScope();
        Tensor factor = CholeskyFactor(parameters);
        return factor.matmul(epsilon.unsqueeze(-1)).squeeze(-1).add(Mean(parameters)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override (Tensor Z, Tensor LogDensity) SampleWithLogDensity(Tensor parameters, Tensor epsilon)
    {
        using var scope = NewDisposeScope();
        Tensor z = Sample(parameters, epsilon);
        Tensor logDensity = BaseLogDensity(epsilon, LogVariance(parameters));
        return (z.MoveToOuterDisposeScope(), logDensity.MoveToOuterDisposeScope());
    }

    /// <inheritdoc/>
    public override Tensor LogDensity(Tensor z, Tensor parameters)
    {
        using var scope = NewDisposeScope();
        Tensor factor = CholeskyFactor(parameters);
        Tensor centred = z.sub(Mean(parameters)).unsqueeze(-1);
        Tensor epsilon = linalg.solve_triangular(factor.expand(centred.shape[..^1].Append(LatentDimensions).ToArray()), centred, upper: false).squeeze(-1);
        return BaseLogDensity(epsilon, LogVariance(parameters)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor? AnalyticKlToStandardNormal(Tensor parameters)
    {
        using var scope = NewDisposeScope();
        long d = LatentDimensions;
        Tensor logVariance = LogVariance(parameters);
        Tensor trace = logVariance.exp().sum(-1);
        if (offDiagonal > 0) trace = trace.add(parameters.narrow(-1, 2 * d, offDiagonal).square().sum(-1));
        return trace.add(Mean(parameters).square().sum(-1)).sub(d).sub(logVariance.sum(-1)).mul(0.5).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override string DescribeColumn(long column) =>
        column < 2 * LatentDimensions ? base.DescribeColumn(column) : "an off-diagonal entry of the Cholesky factor L";
}
