using TorchSharp;
using VaeLab.Models;
using VaeLab.Models.Posteriors;
using static TorchSharp.torch;

namespace VaeLab.Derivation.References;

/// <summary>
/// The linear-Gaussian latent model (probabilistic PCA; Tipping and Bishop 1999): p(z) = N(0, I_d),
/// p(x|z) = N(Wz + b, σ² I_D). Its marginal and posterior are closed form, which is why the derivation
/// checks use it: log p(x) = log N(x; b, WWᵀ + σ²I) and p(z|x) = N(M⁻¹Wᵀ(x − b), σ² M⁻¹) with
/// M = WᵀW + σ²I_d. Everything is float64 and computed through the d×d matrix M (Woodbury and the matrix
/// determinant lemma), so D = 784 costs no more than d.
/// </summary>
public sealed class LinearGaussianModel : IDisposable
{
    static readonly double Log2Pi = Math.Log(2 * Math.PI);
    readonly Tensor choleskyM;

    /// <summary>Creates the model from W [D, d], b [D] and σ &gt; 0 (copied to float64).</summary>
    /// <exception cref="ArgumentException">Shapes that do not fit together, or σ not positive.</exception>
    public LinearGaussianModel(Tensor weight, Tensor bias, double sigma)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(bias);
        if (weight.dim() != 2) throw new ArgumentException($"W must be a matrix [D, d], got shape [{string.Join(", ", weight.shape)}].", nameof(weight));
        if (bias.dim() != 1 || bias.shape[0] != weight.shape[0])
            throw new ArgumentException($"b must be a vector of length D = {weight.shape[0]}, got shape [{string.Join(", ", bias.shape)}].", nameof(bias));
        if (!(sigma > 0) || double.IsInfinity(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "σ must be a positive number.");
        // The model owns its tensors for its whole life, whatever dispose scope is open when it is made.
        Weight = weight.to_type(ScalarType.Float64).clone().DetachFromDisposeScope();
        Bias = bias.to_type(ScalarType.Float64).clone().DetachFromDisposeScope();
        Sigma = sigma;
        using Tensor m = PrecisionMatrix();
        choleskyM = linalg.cholesky(m).DetachFromDisposeScope();
    }

    /// <summary>W, [D, d], float64.</summary>
    public Tensor Weight { get; }

    /// <summary>b, [D], float64.</summary>
    public Tensor Bias { get; }

    /// <summary>The observation noise σ.</summary>
    public double Sigma { get; }

    /// <summary>Data dimensions D.</summary>
    public long DataDimensions => Weight.shape[0];

    /// <summary>Latent dimensions d.</summary>
    public long LatentDimensions => Weight.shape[1];

    /// <summary>
    /// A model with W of standard normal entries scaled by <paramref name="weightScale"/> (or, with
    /// <paramref name="orthogonalColumns"/>, orthogonal columns of norms drawn in [0.5, 2]·scale·√D, which makes the
    /// posterior covariance diagonal), b ~ N(0, 1), deterministic for a seed.
    /// </summary>
    public static LinearGaussianModel Random(int dataDimensions, int latentDimensions, double sigma, long seed, bool orthogonalColumns = false, double weightScale = 1.0)
    {
        if (latentDimensions < 1 || dataDimensions < latentDimensions)
            throw new ArgumentOutOfRangeException(nameof(latentDimensions), latentDimensions, $"Need 1 ≤ d ≤ D = {dataDimensions}.");
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        Tensor w = randn(new long[] { dataDimensions, latentDimensions }, ScalarType.Float64, generator: generator).mul(weightScale);
        if (orthogonalColumns)
        {
            Tensor q = linalg.qr(w).Q;
            Tensor norms = rand(new long[] { latentDimensions }, ScalarType.Float64, generator: generator).mul(1.5).add(0.5).mul(weightScale * Math.Sqrt(dataDimensions));
            w = q.mul(norms.unsqueeze(0));
        }
        Tensor b = randn(new long[] { dataDimensions }, ScalarType.Float64, generator: generator);
        return new LinearGaussianModel(w, b, sigma);
    }

    /// <summary>M = WᵀW + σ²I_d, [d, d].</summary>
    public Tensor PrecisionMatrix()
    {
        using Tensor identity = eye(LatentDimensions, dtype: ScalarType.Float64);
        return Weight.t().matmul(Weight).add(identity.mul(Sigma * Sigma));
    }

    /// <summary>log p(x) = log N(x; b, WWᵀ + σ²I) for x [N, D] (any dtype): [N] float64, nats.</summary>
    public Tensor LogMarginal(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor r = Residual(x);                                   // [N, D]
        Tensor projected = r.matmul(Weight);                      // Wᵀr as rows, [N, d]
        Tensor solved = cholesky_solve(projected.t(), choleskyM); // M⁻¹Wᵀr, [d, N]
        double variance = Sigma * Sigma;
        Tensor quadratic = r.square().sum(1).sub(projected.mul(solved.t()).sum(1)).div(variance);
        double logDetC = (DataDimensions - LatentDimensions) * Math.Log(variance) + LogDetM();
        return quadratic.add(DataDimensions * Log2Pi + logDetC).mul(-0.5).MoveToOuterDisposeScope();
    }

    /// <summary>The exact posterior p(z|x) = N(M⁻¹Wᵀ(x − b), σ²M⁻¹): means [N, d] and the shared covariance [d, d].</summary>
    public (Tensor Mean, Tensor Covariance) Posterior(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor mean = cholesky_solve(Residual(x).matmul(Weight).t(), choleskyM).t().contiguous();
        Tensor covariance = cholesky_inverse(choleskyM).mul(Sigma * Sigma);
        return (mean.MoveToOuterDisposeScope(), covariance.MoveToOuterDisposeScope());
    }

    /// <summary>log p(x|z) = log N(x; Wz + b, σ²I) for x [N, D] and z [N, d]: [N] float64, nats.</summary>
    public Tensor LogLikelihood(Tensor x, Tensor z)
    {
        using var scope = NewDisposeScope();
        Tensor mean = z.to_type(ScalarType.Float64).matmul(Weight.t()).add(Bias);
        Tensor squared = x.to_type(ScalarType.Float64).sub(mean).square().sum(1);
        return squared.div(Sigma * Sigma).add(DataDimensions * (Log2Pi + 2 * Math.Log(Sigma))).mul(-0.5).MoveToOuterDisposeScope();
    }

    /// <summary>log p(z) = log N(z; 0, I) for z [N, d]: [N] float64, nats.</summary>
    public Tensor LogPrior(Tensor z)
    {
        using Tensor squared = z.to_type(ScalarType.Float64).square().sum(1);
        return squared.add(LatentDimensions * Log2Pi).mul(-0.5);
    }

    /// <summary>
    /// E_q[log p(x|z)] for q = N(m, diag s²) in closed form: −(D/2) log 2πσ² − (‖x − Wm − b‖² + Σ_j s_j² ‖W_j‖²) / 2σ²,
    /// from x [N, D], m [N, d] and log s² [N, d]: [N] float64, nats (W_j is column j of W).
    /// </summary>
    public Tensor ExpectedLogLikelihood(Tensor x, Tensor qMean, Tensor qLogVariance)
    {
        using var scope = NewDisposeScope();
        Tensor residual = Residual(x).sub(qMean.to_type(ScalarType.Float64).matmul(Weight.t()));
        Tensor spread = qLogVariance.to_type(ScalarType.Float64).exp().mul(Weight.square().sum([0])).sum(1);
        double variance = Sigma * Sigma;
        return residual.square().sum(1).add(spread).div(-2 * variance).sub(0.5 * DataDimensions * Math.Log(2 * Math.PI * variance)).MoveToOuterDisposeScope();
    }

    /// <summary>The exact posterior mean as an affine map of x: E[z|x] = A x + a with A = M⁻¹Wᵀ [d, D] and a = −A b [d].</summary>
    public (Tensor Weight, Tensor Bias) PosteriorMeanMap()
    {
        using var scope = NewDisposeScope();
        Tensor a = cholesky_solve(Weight.t(), choleskyM);
        Tensor bias = a.matmul(Bias).neg();
        return (a.MoveToOuterDisposeScope(), bias.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// This model as a <see cref="VariationalAutoencoder"/> built from the library's own classes, in float64: an
    /// <see cref="MlpDecoder"/> without hidden layers holding W and b, a fixed-σ <see cref="GaussianLikelihood"/>, and an
    /// <see cref="MlpEncoder"/> without hidden layers whose head gives q(z|x) = N(A x + a, diag exp(C x + c)).
    /// With A, a from <see cref="PosteriorMeanMap"/>, C = 0 and c = log diag(σ²M⁻¹), q is the best diagonal Gaussian
    /// (the exact posterior when W has orthogonal columns). Everything the library computes on a VAE (the ELBO
    /// estimate, the importance weights, the evaluator) then has a closed form to meet.
    /// </summary>
    /// <param name="meanWeight">A, [d, D].</param>
    /// <param name="meanBias">a, [d].</param>
    /// <param name="logVarianceWeight">C, [d, D].</param>
    /// <param name="logVarianceBias">c, [d].</param>
    /// <exception cref="ArgumentException">Shapes that do not match the model's D and d.</exception>
    public VariationalAutoencoder ToVariationalAutoencoder(Tensor meanWeight, Tensor meanBias, Tensor logVarianceWeight, Tensor logVarianceBias)
    {
        long d = LatentDimensions, dataDimensions = DataDimensions;
        foreach (var (name, tensor, shape) in new[] { ("meanWeight", meanWeight, new[] { d, dataDimensions }), ("meanBias", meanBias, new[] { d }),
                     ("logVarianceWeight", logVarianceWeight, new[] { d, dataDimensions }), ("logVarianceBias", logVarianceBias, new[] { d }) })
            if (!tensor.shape.SequenceEqual(shape))
                throw new ArgumentException($"{name} must have shape [{string.Join(", ", shape)}], got [{string.Join(", ", tensor.shape)}].", name);
        var encoder = new MlpEncoder(dataDimensions, [], d);
        var decoder = new MlpDecoder(d, [], dataDimensions);
        var model = new VariationalAutoencoder(encoder, decoder, new GaussianLikelihood(GaussianVariance.Fixed, dataDimensions, Sigma), [dataDimensions]);
        model.to(ScalarType.Float64);
        using (no_grad())
        {
            // The encoder's one head outputs [μ, log σ²]; the decoder's one layer is z ↦ Wz + b.
            var head = encoder.modules().OfType<TorchSharp.Modules.Linear>().Single();
            head.weight!.copy_(cat([meanWeight, logVarianceWeight], 0));
            head.bias!.copy_(cat([meanBias, logVarianceBias], 0));
            var layer = decoder.modules().OfType<TorchSharp.Modules.Linear>().Single();
            layer.weight!.copy_(Weight);
            layer.bias!.copy_(Bias);
        }
        model.eval();
        return model;
    }

    /// <summary>
    /// This model as a VAE whose encoder gives the best diagonal Gaussian: the exact posterior mean and the variances
    /// σ²/M_jj (the mean-field optimum of KL(q ‖ p(z|x))); with orthogonal columns of W that is the exact posterior.
    /// </summary>
    public VariationalAutoencoder MeanFieldVariationalAutoencoder()
    {
        using var scope = NewDisposeScope();
        var (a, bias) = PosteriorMeanMap();
        Tensor logVariance = PrecisionMatrix().diagonal().reciprocal().mul(Sigma * Sigma).log();
        return ToVariationalAutoencoder(a, bias, zeros(LatentDimensions, DataDimensions, dtype: ScalarType.Float64), logVariance);
    }

    /// <summary>
    /// This model as a VAE with a <see cref="FullCovariancePosterior"/>, from the library's classes in float64: q(z|x) = N(A x + a, LLᵀ),
    /// the encoder's head giving A x + a, then log L_jj² and the strictly-lower entries of L as constants (its biases).
    /// </summary>
    /// <param name="meanWeight">A, [d, D].</param>
    /// <param name="meanBias">a, [d].</param>
    /// <param name="cholesky">L, [d, d], lower-triangular with a positive diagonal.</param>
    public VariationalAutoencoder ToFullCovarianceVariationalAutoencoder(Tensor meanWeight, Tensor meanBias, Tensor cholesky)
    {
        long d = LatentDimensions, dataDimensions = DataDimensions;
        var posterior = new FullCovariancePosterior(d);
        var encoder = new MlpEncoder(dataDimensions, [], d, posterior.ParameterCount);
        var decoder = new MlpDecoder(d, [], dataDimensions);
        var model = new VariationalAutoencoder(encoder, decoder, new GaussianLikelihood(GaussianVariance.Fixed, dataDimensions, Sigma), [dataDimensions], posterior);
        model.to(ScalarType.Float64);
        double[] l;
        using (Tensor c = cholesky.to_type(ScalarType.Float64).contiguous()) l = c.data<double>().ToArray();
        var constants = new List<double>();
        for (long j = 0; j < d; j++) constants.Add(2 * Math.Log(l[j * d + j]));
        for (long i = 0; i < d; i++)
            for (long j = 0; j < i; j++) constants.Add(l[i * d + j]);
        using (no_grad())
        {
            var head = encoder.modules().OfType<TorchSharp.Modules.Linear>().Single();
            head.weight!.copy_(cat([meanWeight, zeros(posterior.ParameterCount - d, dataDimensions, dtype: ScalarType.Float64)], 0));
            head.bias!.copy_(cat([meanBias, tensor(constants.ToArray())], 0));
            var layer = decoder.modules().OfType<TorchSharp.Modules.Linear>().Single();
            layer.weight!.copy_(Weight);
            layer.bias!.copy_(Bias);
        }
        model.eval();
        return model;
    }

    /// <summary>
    /// E_q[log p(x|z)] for q = N(m, S) with a full covariance, in closed form: −(D/2) log 2πσ² − (‖x − Wm − b‖² + tr(W S Wᵀ)) / 2σ²,
    /// from x [N, D], m [N, d] and S [N, d, d]: [N] float64, nats.
    /// </summary>
    public Tensor ExpectedLogLikelihoodFull(Tensor x, Tensor qMean, Tensor qCovariance)
    {
        using var scope = NewDisposeScope();
        Tensor residual = Residual(x).sub(qMean.to_type(ScalarType.Float64).matmul(Weight.t()));
        Tensor spread = qCovariance.to_type(ScalarType.Float64).mul(Weight.t().matmul(Weight)).sum([1, 2]);
        double variance = Sigma * Sigma;
        return residual.square().sum(1).add(spread).div(-2 * variance).sub(0.5 * DataDimensions * Math.Log(2 * Math.PI * variance)).MoveToOuterDisposeScope();
    }

    /// <summary>Draws <paramref name="count"/> pairs z ~ p(z), x ~ p(x|z): ([N, D], [N, d]).</summary>
    public (Tensor X, Tensor Z) Sample(int count, Generator generator)
    {
        using var scope = NewDisposeScope();
        Tensor z = randn(new long[] { count, LatentDimensions }, ScalarType.Float64, generator: generator);
        Tensor noise = randn(new long[] { count, DataDimensions }, ScalarType.Float64, generator: generator);
        Tensor x = z.matmul(Weight.t()).add(Bias).add(noise.mul(Sigma));
        return (x.MoveToOuterDisposeScope(), z.MoveToOuterDisposeScope());
    }

    double LogDetM()
    {
        using Tensor diagonal = choleskyM.diagonal();
        using Tensor logs = diagonal.log();
        return 2 * logs.sum().item<double>();
    }

    Tensor Residual(Tensor x)
    {
        if (x.dim() != 2 || x.shape[1] != DataDimensions)
            throw new ArgumentException($"x must be [N, {DataDimensions}], got shape [{string.Join(", ", x.shape)}].", nameof(x));
        return x.to_type(ScalarType.Float64).sub(Bias);
    }

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Weight.Dispose();
        Bias.Dispose();
        choleskyM.Dispose();
    }
}
