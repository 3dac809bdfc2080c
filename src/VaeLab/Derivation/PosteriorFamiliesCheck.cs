using VaeLab.Derivation.References;
using VaeLab.Evaluation.Inference;
using VaeLab.Models;
using VaeLab.Models.Posteriors;
using TorchSharp;
using static TorchSharp.torch;

namespace VaeLab.Derivation;

/// <summary>
/// Check 10, the posterior families on their production classes, in float64. Each flow layer's log |det ∂f/∂z| against the
/// log-determinant of its dense Jacobian (autograd, then an LU), planar layers also next to their invertibility boundary; each
/// layer's map against a plain loop over its definition (<see cref="ReferenceFlows"/>); IAF's Jacobian triangular in the order
/// its layer should have (reversed every other layer), with the gate on its diagonal. Then each family's density integrates to 1
/// over a 2-D grid and its sampler's moments match the density's by quadrature; and the full-covariance density and KL against
/// dense linear algebra and Monte Carlo.
/// </summary>
public sealed class PosteriorFamiliesCheck : IDerivationCheck
{
    /// <inheritdoc/>
    public int Number => 10;

    string IDerivationCheck.Name => Name;

    /// <summary>The check's name in the report.</summary>
    public const string Name = "10 posterior families";

    /// <summary>The families whose densities the grid rows integrate, as the CLI writes them.</summary>
    public static readonly string[] GridFamilies = ["Diagonal", "FullCovariance", "Planar:3", "Iaf:2"];

    /// <inheritdoc/>
    public IReadOnlyList<DerivationRow> Rows(CheckContext context) => Run();

    /// <summary>Runs the check.</summary>
    public static IReadOnlyList<DerivationRow> Run(long seed = 10)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        var rows = new List<DerivationRow>();
        rows.AddRange(PlanarLayerRows(generator));
        rows.AddRange(AutoregressiveLayerRows(generator));
        rows.AddRange(LayoutRows(generator));
        rows.AddRange(GradientRows(generator));
        foreach (string family in GridFamilies) rows.AddRange(GridRows(PosteriorSpec.Parse(family), generator));
        rows.AddRange(FullCovarianceRows(generator));
        rows.AddRange(LinearGaussianRows(seed, generator));
        rows.AddRange(FlowIdentityRows(seed));
        return rows;
    }

    // ---- flow layers -------------------------------------------------------------------------------------------------------

    static List<DerivationRow> PlanarLayerRows(Generator generator)
    {
        var rows = new List<DerivationRow>();
        const int d = 5, cases = 12;
        double worstDeterminant = 0, worstBoundary = 0, worstMap = 0, boundaryDeterminant = 0;
        for (int c = 0; c < 2 * cases; c++)
        {
            using var caseScope = NewDisposeScope();
            bool boundary = c >= cases;
            Tensor z = randn(new long[] { 1, d }, ScalarType.Float64, generator: generator);
            Tensor w = randn(new long[] { 1, d }, ScalarType.Float64, generator: generator);
            Tensor u = randn(new long[] { 1, d }, ScalarType.Float64, generator: generator);
            Tensor b = randn(new long[] { 1, 1 }, ScalarType.Float64, generator: generator);
            if (boundary)
            {
                // wᵀu = −8 (so wᵀû = −1 + softplus(−8) ≈ −1 + 3.4e-4) and wᵀz + b = 0 (so tanh' = 1): det ∂f/∂z ≈ 3.4e-4.
                Tensor ww = w.square().sum();
                u = u.sub(w.mul(w.mul(u).sum().add(8).div(ww)));
                b = w.mul(z).sum().neg().view(1, 1);
            }
            var (output, logDeterminant) = PlanarFlowPosterior.Layer(z, u, w, b);
            double reference = LogAbsDeterminant(Jacobian(point => PlanarFlowPosterior.Layer(point, u, w, b).Z, z));
            double error = Math.Abs(logDeterminant.item<double>() - reference);
            if (boundary) { worstBoundary = Math.Max(worstBoundary, error); boundaryDeterminant = reference; }
            else worstDeterminant = Math.Max(worstDeterminant, error);
            double[] expected = ReferenceFlows.Planar(Values(z), Values(u), Values(w), b.item<double>());
            worstMap = Math.Max(worstMap, MaxDifference(Values(output), expected));
        }
        rows.Add(new DerivationRow(Name, "planar layer: log |det ∂f/∂z| = log |1 + (1 − tanh²(wᵀz + b)) wᵀû| (worst of 12 random points)", worstDeterminant, 0, worstDeterminant, 1e-9,
            "PlanarFlowPosterior.Layer against log |det| of the dense 5×5 Jacobian (autograd rows, then slogdet); float64", worstDeterminant <= 1e-9));
        rows.Add(new DerivationRow(Name, "planar layer near the boundary wᵀû → −1: log |det ∂f/∂z| (worst of 12)", worstBoundary, 0, worstBoundary, 1e-8,
            $"wᵀu = −8 and wᵀz + b = 0, so det ≈ {Math.Exp(boundaryDeterminant):G2}; same reference", worstBoundary <= 1e-8));
        rows.Add(new DerivationRow(Name, "planar layer: f(z) = z + û tanh(wᵀz + b) with û = u + (m(wᵀu) − wᵀu) w/‖w‖² (worst coordinate of 24)", worstMap, 0, worstMap, 1e-12,
            "PlanarFlowPosterior.Layer against ReferenceFlows.Planar (a loop over the definition in doubles)", worstMap <= 1e-12));
        return rows;
    }

    static List<DerivationRow> AutoregressiveLayerRows(Generator generator)
    {
        var rows = new List<DerivationRow>();
        const int d = 5, layers = 3, points = 6;
        var family = new InverseAutoregressiveFlowPosterior(d, layers);
        family.to(ScalarType.Float64);
        Perturb(family, generator);
        Tensor context = randn(new long[] { 1, family.ContextSize }, ScalarType.Float64, generator: generator);
        double worstDeterminant = 0, worstOrder = 0, worstGate = 0, worstMap = 0;
        for (int t = 0; t < layers; t++)
        {
            AutoregressiveNetwork network = family.Networks[t];
            bool reversed = t % 2 == 1;   // the order the layer must have: 0, …, d−1 for the first, reversed for the next
            var (inputWeight, contextWeight, hiddenBias, outputWeight, outputBias) = network.Weights();
            for (int p = 0; p < points; p++)
            {
                using var pointScope = NewDisposeScope();
                Tensor z = randn(new long[] { 1, d }, ScalarType.Float64, generator: generator).mul(1.5);
                var (output, logDeterminant) = InverseAutoregressiveFlowPosterior.Layer(network, z, context);
                double[,] jacobian = ToArray(Jacobian(point => InverseAutoregressiveFlowPosterior.Layer(network, point, context).Z, z));
                using Tensor dense = tensor(jacobian);
                worstDeterminant = Math.Max(worstDeterminant, Math.Abs(logDeterminant.item<double>() - LogAbsDeterminant(dense)));
                double[] gate;
                using (no_grad()) gate = Values(network.Forward(z, context).GateLogit.sigmoid());
                for (int j = 0; j < d; j++)
                    for (int i = 0; i < d; i++)
                    {
                        bool before = reversed ? i > j : i < j;
                        if (i == j) worstGate = Math.Max(worstGate, Math.Abs(jacobian[j, i] - gate[j]));
                        else if (!before) worstOrder = Math.Max(worstOrder, Math.Abs(jacobian[j, i]));
                    }
                var expected = ReferenceFlows.InverseAutoregressive(Values(z), Values(context), reversed, inputWeight, contextWeight, hiddenBias, outputWeight, outputBias);
                worstMap = Math.Max(worstMap, MaxDifference(Values(output), expected.Z));
                worstMap = Math.Max(worstMap, Math.Abs(logDeterminant.item<double>() - expected.LogDeterminant));
            }
        }
        family.Dispose();
        rows.Add(new DerivationRow(Name, "IAF layer: log |det ∂z'/∂z| = Σ_j log σ_j (worst of 3 layers × 6 points)", worstDeterminant, 0, worstDeterminant, 1e-9,
            "InverseAutoregressiveFlowPosterior.Layer against log |det| of the dense 5×5 Jacobian (autograd rows, then slogdet); float64", worstDeterminant <= 1e-9));
        rows.Add(new DerivationRow(Name, "IAF layer: ∂z'_j/∂z_i = 0 unless i comes before j (order 0…4, reversed in the next layer)", worstOrder, 0, worstOrder, 0,
            "largest |Jacobian entry| on or after the diagonal in each layer's order, off the diagonal: the MADE masks (must be exactly 0)", worstOrder == 0));
        rows.Add(new DerivationRow(Name, "IAF layer: ∂z'_j/∂z_j = σ_j, the gate (the update's own coordinate enters only through σ_j z_j)", worstGate, 0, worstGate, 1e-12,
            "Jacobian diagonal against sigmoid(s) from AutoregressiveNetwork.Forward", worstGate <= 1e-12));
        rows.Add(new DerivationRow(Name, "IAF layer: z' = σ ⊙ z + (1 − σ) ⊙ m and Σ log σ, (m, s) from the masked network (worst of 18)", worstMap, 0, worstMap, 1e-10,
            "InverseAutoregressiveFlowPosterior.Layer against ReferenceFlows.InverseAutoregressive (loops over the MADE's definition and its weights)", worstMap <= 1e-10));
        return rows;
    }

    // ---- the families end to end: λ's layout and the gradients training follows ---------------------------------------------

    /// <summary>The families the end-to-end rows run through λ, as the CLI writes them.</summary>
    public static readonly string[] EndToEndFamilies = ["FullCovariance", "Planar:3", "Iaf:3"];

    // SampleWithLogDensity(λ, ε) against a reference that reads λ's columns by the documented layout (μ, log σ², then the
    // Cholesky entries row by row, or each planar layer's u, w, b, or IAF's context) and applies the maps written another way
    // (ReferenceFlows, a hand-built L): log q = log N(ε; 0, I) − ½ Σ log σ² − Σ log |det| of the layers.
    static List<DerivationRow> LayoutRows(Generator generator)
    {
        var rows = new List<DerivationRow>();
        const int d = 4, n = 3;
        foreach (string name in EndToEndFamilies)
        {
            using var scope = NewDisposeScope();
            PosteriorSpec spec = PosteriorSpec.Parse(name);
            PosteriorFamily family = spec.Build(d);
            family.to(ScalarType.Float64);
            Perturb(family, generator);
            Tensor parameters = randn(new long[] { n, family.ParameterCount }, ScalarType.Float64, generator: generator).mul(0.7);
            Tensor epsilon = randn(new long[] { n, d }, ScalarType.Float64, generator: generator);
            var (z, logQ) = family.SampleWithLogDensity(parameters, epsilon);
            double[] lambda = Values(parameters), noise = Values(epsilon), drawn = Values(z), logDensity = Values(logQ);
            int p = (int)family.ParameterCount;
            double worst = 0;
            for (int e = 0; e < n; e++)
            {
                double[] row = lambda[(e * p)..((e + 1) * p)], eps = noise[(e * d)..((e + 1) * d)];
                var (expected, expectedLog) = ReferenceDraw(family, spec, row, eps, d);
                worst = Math.Max(worst, MaxDifference(drawn[(e * d)..((e + 1) * d)], expected));
                worst = Math.Max(worst, Math.Abs(logDensity[e] - expectedLog));
            }
            rows.Add(new DerivationRow(Name, $"{spec}: z and log q(z|x) from λ = [μ, log σ², {LayoutName(spec)}] (worst of {n} examples × (z, log q))", worst, 0, worst, 1e-10,
                $"{family.GetType().Name}.SampleWithLogDensity against λ read column by column by the documented layout and {(spec.Kind == PosteriorKind.FullCovariance ? "a hand-built L" : "ReferenceFlows")}; d = {d}", worst <= 1e-10));
            family.Dispose();
        }
        return rows;
    }

    static string LayoutName(PosteriorSpec spec) => spec.Kind switch
    {
        PosteriorKind.FullCovariance => "L's strictly-lower entries row by row",
        PosteriorKind.Planar => "(u, w, b) per layer",
        _ => "context h",
    };

    static (double[] Z, double LogDensity) ReferenceDraw(PosteriorFamily family, PosteriorSpec spec, double[] lambda, double[] epsilon, int d)
    {
        double logDensity = 0;
        var z = new double[d];
        for (int i = 0; i < d; i++)
        {
            double logVariance = lambda[d + i];
            logDensity += -0.5 * epsilon[i] * epsilon[i] - 0.5 * Math.Log(2 * Math.PI) - 0.5 * logVariance;
            z[i] = lambda[i] + Math.Exp(0.5 * logVariance) * epsilon[i];
        }
        if (spec.Kind == PosteriorKind.FullCovariance)
        {
            // z = μ + L ε with L_ii = σ_i and the strictly-lower entries after μ and log σ², row by row: the base's z_i plus Σ_{j<i} L_ij ε_j.
            int next = 2 * d;
            for (int i = 0; i < d; i++)
                for (int j = 0; j < i; j++) z[i] += lambda[next++] * epsilon[j];
            return (z, logDensity);
        }
        if (spec.Kind == PosteriorKind.Planar)
        {
            for (int k = 0; k < spec.Layers; k++)
            {
                int start = 2 * d + k * (2 * d + 1);
                double[] u = lambda[start..(start + d)], w = lambda[(start + d)..(start + 2 * d)];
                double b = lambda[start + 2 * d];
                // det ∂f/∂z = 1 + (1 − tanh²(wᵀz + b)) wᵀû, from û as the layer's definition builds it.
                double wu = 0, ww = 0, wz = b;
                for (int i = 0; i < d; i++) { wu += w[i] * u[i]; ww += w[i] * w[i]; wz += w[i] * z[i]; }
                double m = -1 + Math.Log(1 + Math.Exp(wu)), wuHat = 0;
                for (int i = 0; i < d; i++) wuHat += w[i] * (u[i] + (m - wu) * w[i] / ww);
                double tanh = Math.Tanh(wz);
                logDensity -= Math.Log(Math.Abs(1 + (1 - tanh * tanh) * wuHat));
                z = ReferenceFlows.Planar(z, u, w, b);
            }
            return (z, logDensity);
        }
        var iaf = (InverseAutoregressiveFlowPosterior)family;
        double[] context = lambda[(2 * d)..(3 * d)];
        for (int t = 0; t < spec.Layers; t++)
        {
            var (inputWeight, contextWeight, hiddenBias, outputWeight, outputBias) = iaf.Networks[t].Weights();
            var (next, logDeterminant) = ReferenceFlows.InverseAutoregressive(z, context, t % 2 == 1, inputWeight, contextWeight, hiddenBias, outputWeight, outputBias);
            z = next;
            logDensity -= logDeterminant;
        }
        return (z, logDensity);
    }

    // The gradient training follows: autograd of g(λ, θ) = Σ_n (log q(z_n|x_n) + cᵀz_n) at fixed ε, through SampleWithLogDensity,
    // against central differences of the same g, with respect to every column of λ and to entries of the family's own weights (the
    // IAF's MADEs). A detached log-determinant or slack keeps every value above and changes this gradient.
    static List<DerivationRow> GradientRows(Generator generator)
    {
        var rows = new List<DerivationRow>();
        const int d = 3, n = 2;
        const double step = 1e-5;
        foreach (string name in (string[])["Diagonal", .. EndToEndFamilies])
        {
            using var scope = NewDisposeScope();
            PosteriorSpec spec = PosteriorSpec.Parse(name);
            PosteriorFamily family = spec.Build(d);
            family.to(ScalarType.Float64);
            Perturb(family, generator);
            Tensor parameters = randn(new long[] { n, family.ParameterCount }, ScalarType.Float64, generator: generator).mul(0.7);
            Tensor epsilon = randn(new long[] { n, d }, ScalarType.Float64, generator: generator);
            Tensor weights = randn(new long[] { d }, ScalarType.Float64, generator: generator);
            double Objective(Tensor lambda)
            {
                using var inner = NewDisposeScope();
                var (z, logQ) = family.SampleWithLogDensity(lambda, epsilon);
                return logQ.sum().add(z.matmul(weights).sum()).item<double>();
            }
            Tensor leaf = parameters.detach().clone().requires_grad_(true);
            var own = family.parameters().ToArray();
            Tensor[] gradients;
            using (enable_grad())
            {
                var (z, logQ) = family.SampleWithLogDensity(leaf, epsilon);
                Tensor g = logQ.sum().add(z.matmul(weights).sum());
                gradients = autograd.grad([g], [leaf, .. own]).ToArray();
            }
            double worst = 0, scale = 0;
            double[] analytic = Values(gradients[0]);
            using (no_grad())
                for (int k = 0; k < parameters.numel(); k++)
                {
                    Tensor up = parameters.clone(), down = parameters.clone();
                    up.view(-1).narrow(0, k, 1).add_(step);
                    down.view(-1).narrow(0, k, 1).sub_(step);
                    double numeric = (Objective(up) - Objective(down)) / (2 * step);
                    worst = Math.Max(worst, Math.Abs(numeric - analytic[k]));
                    scale = Math.Max(scale, Math.Abs(numeric));
                }
            // The family's own weights: six random entries of each (the IAF's masked entries have gradient 0 both ways).
            for (int w = 0; w < own.Length; w++)
            {
                double[] ownAnalytic = Values(gradients[w + 1]);
                for (int r = 0; r < 6; r++)
                {
                    long k = (long)(Values(rand(1, dtype: ScalarType.Float64, generator: generator))[0] * own[w].numel());
                    double numeric;
                    using (no_grad())
                    {
                        Tensor entry = own[w].view(-1).narrow(0, k, 1);
                        entry.add_(step);
                        double plus = Objective(parameters);
                        entry.sub_(2 * step);
                        double minus = Objective(parameters);
                        entry.add_(step);
                        numeric = (plus - minus) / (2 * step);
                    }
                    worst = Math.Max(worst, Math.Abs(numeric - ownAnalytic[k]));
                    scale = Math.Max(scale, Math.Abs(numeric));
                }
            }
            double tolerance = 1e-6 * Math.Max(1, scale);
            string weightsNote = own.Length == 0 ? "" : $" and 6 entries of each of its {own.Length} weight tensors";
            rows.Add(new DerivationRow(Name, $"{spec}: ∂/∂λ of Σ (log q(z|x) + cᵀz) at fixed ε, autograd = central differences (worst of every λ entry{weightsNote})", worst, 0, worst, tolerance,
                $"autograd through {family.GetType().Name}.SampleWithLogDensity against (g(λ + h) − g(λ − h)) / 2h, h = {step:G1}, float64; tolerance 1e-6 × the largest gradient", worst <= tolerance));
            family.Dispose();
        }
        return rows;
    }

    // ---- densities on a grid -----------------------------------------------------------------------------------------------

    /// <summary>Half-width of the integration grid in each latent dimension.</summary>
    public const double GridHalfWidth = 8;

    /// <summary>Grid points per dimension.</summary>
    public const int GridPoints = 641;

    static List<DerivationRow> GridRows(PosteriorSpec spec, Generator generator)
    {
        var rows = new List<DerivationRow>();
        using var scope = NewDisposeScope();
        var (family, parameters) = TestFamily(spec, generator);
        using (family)
        {
            double step = 2 * GridHalfWidth / (GridPoints - 1);
            Tensor axis = linspace(-GridHalfWidth, GridHalfWidth, GridPoints, ScalarType.Float64);
            Tensor[] mesh = meshgrid([axis, axis], indexing: "ij");
            Tensor grid = stack([mesh[0].flatten(), mesh[1].flatten()], 1).unsqueeze(1);   // [G, 1, 2]
            Tensor density;
            using (no_grad()) density = family.LogDensity(grid, parameters).squeeze(1).exp();   // [G]
            double mass = density.sum().item<double>() * step * step;
            rows.Add(DerivationRow.Equal(Name, $"{spec}: ∫ q(z|x) dz = 1 (2-D grid)", mass, 1, 1e-6,
                $"exp of {family.GetType().Name}.LogDensity on a {GridPoints}² grid over [−{GridHalfWidth}, {GridHalfWidth}]², trapezoid rule"));

            // Moments of the sampler against those of the density, by the same grid.
            const int samples = 200_000;
            Tensor z;
            using (no_grad())
            {
                Tensor epsilon = randn(new long[] { samples, 1, 2 }, ScalarType.Float64, generator: generator);
                z = family.Sample(parameters, epsilon).squeeze(1);
            }
            rows.Add(SamplerMoments.Row(Name, spec.ToString(), z, grid.squeeze(1), density, step * step, mass, $"{family.GetType().Name}.Sample"));
        }
        return rows;
    }

    // A 2-D family in float64 with parameters λ for one example far from the identity: a fixed base Gaussian, random flow parameters, IAF
    // networks perturbed away from their near-identity start.
    static (PosteriorFamily Family, Tensor Parameters) TestFamily(PosteriorSpec spec, Generator generator)
    {
        PosteriorFamily family = spec.Build(2);
        family.to(ScalarType.Float64);
        Perturb(family, generator);
        Tensor parameters = randn(new long[] { 1, family.ParameterCount }, ScalarType.Float64, generator: generator).mul(0.8);
        using (no_grad())
        {
            parameters.narrow(1, 0, 2).copy_(tensor(new[] { 0.3, -0.4 }).view(1, 2));
            parameters.narrow(1, 2, 2).copy_(tensor(new[] { -0.5, 0.3 }).view(1, 2));
        }
        return (family, parameters);
    }

    // ---- full covariance ---------------------------------------------------------------------------------------------------

    static List<DerivationRow> FullCovarianceRows(Generator generator)
    {
        var rows = new List<DerivationRow>();
        using var scope = NewDisposeScope();
        const int d = 4, n = 8;
        var family = new FullCovariancePosterior(d);
        Tensor parameters = randn(new long[] { n, family.ParameterCount }, ScalarType.Float64, generator: generator).mul(0.6);
        Tensor[] covariances = CovarianceFromDefinition(parameters, d).unbind(0);
        Tensor mean = parameters.narrow(1, 0, d);

        // log q at arbitrary points, and at the family's own draws.
        Tensor points = randn(new long[] { n, d }, ScalarType.Float64, generator: generator).mul(1.5);
        Tensor epsilon = randn(new long[] { n, d }, ScalarType.Float64, generator: generator);
        var (drawn, drawnLogDensity) = family.SampleWithLogDensity(parameters, epsilon);
        Tensor logDensity = family.LogDensity(points, parameters);
        double worstPoint = 0, worstDrawn = 0;
        for (int e = 0; e < n; e++)
        {
            double reference = ReferenceGaussian.LogDensityFull(points.narrow(0, e, 1), mean.narrow(0, e, 1), covariances[e]).item<double>();
            worstPoint = Math.Max(worstPoint, Math.Abs(logDensity[e].item<double>() - reference));
            double atDraw = ReferenceGaussian.LogDensityFull(drawn.narrow(0, e, 1), mean.narrow(0, e, 1), covariances[e]).item<double>();
            worstDrawn = Math.Max(worstDrawn, Math.Abs(drawnLogDensity[e].item<double>() - atDraw));
        }
        rows.Add(new DerivationRow(Name, "FullCovariance: log q(z|x) = log N(z; μ, L Lᵀ) at any z (worst of 8)", worstPoint, 0, worstPoint, 1e-10,
            "FullCovariancePosterior.LogDensity (triangular solve) against ReferenceGaussian.LogDensityFull with Σ built from λ by its definition", worstPoint <= 1e-10));
        rows.Add(new DerivationRow(Name, "FullCovariance: the sampler's log q(z|x) at its own z = μ + L ε (worst of 8)", worstDrawn, 0, worstDrawn, 1e-10,
            "FullCovariancePosterior.SampleWithLogDensity (from ε) against the same dense reference at the drawn z", worstDrawn <= 1e-10));

        // KL(q ‖ N(0, I)): the family's closed form against dense linear algebra and against Monte Carlo.
        Tensor analytic = family.AnalyticKlToStandardNormal(parameters)!;
        double worstDense = 0;
        for (int e = 0; e < n; e++)
        {
            Tensor m = mean[e];
            var (_, logDeterminant) = linalg.slogdet(covariances[e]);
            double dense = 0.5 * (covariances[e].trace().item<double>() + m.dot(m).item<double>() - d - logDeterminant.item<double>());
            worstDense = Math.Max(worstDense, Math.Abs(analytic[e].item<double>() - dense));
        }
        rows.Add(new DerivationRow(Name, "FullCovariance: KL(q ‖ N(0, I)) = ½ (tr Σ + μᵀμ − d − log det Σ) (worst of 8)", worstDense, 0, worstDense, 1e-10,
            "FullCovariancePosterior.AnalyticKlToStandardNormal against tr Σ and slogdet Σ of the dense Σ = L Lᵀ", worstDense <= 1e-10));

        const int samples = 100_000;
        Tensor noise = randn(new long[] { samples, n, d }, ScalarType.Float64, generator: generator);
        var (z, logQ) = family.SampleWithLogDensity(parameters, noise);
        Tensor ratio = logQ.sub(ReferenceGaussian.LogStandardNormal(z));   // [S, N]
        Tensor monteCarlo = ratio.mean([0]), standardError = ratio.std(0).div(Math.Sqrt(samples));
        Tensor scaled = monteCarlo.sub(analytic).abs().div(standardError);
        long worst = scaled.argmax().item<long>();
        double mc = monteCarlo[worst].item<double>(), exact = analytic[worst].item<double>(), tolerance = 4 * standardError[worst].item<double>();
        rows.Add(new DerivationRow(Name, "FullCovariance: KL(q ‖ N(0, I)) analytic = E_q[log q − log p] (worst of 8 in standard errors)", exact, mc, Math.Abs(exact - mc), tolerance,
            $"{samples:N0} draws of the family with log p by TorchSharp's Normal; tolerance 4 standard errors", Math.Abs(exact - mc) <= tolerance));
        family.Dispose();
        return rows;
    }

    // ---- the linear-Gaussian model: its posterior is a full-covariance Gaussian -----------------------------------------------

    // With W's columns mixed (a correlated posterior, as in check 7): the full-covariance family holds p(z|x) itself, so the amortised
    // exact q has every importance weight equal to p(x) and an ELBO equal to log p(x), and the q* fitted in that family closes the
    // approximation gap; InferenceGap.Decompose then puts the whole gap KL(q ‖ p(z|x)) into the amortisation gap.
    static List<DerivationRow> LinearGaussianRows(long seed, Generator generator)
    {
        var rows = new List<DerivationRow>();
        using var scope = NewDisposeScope();
        const double optimisation = 0.05;
        using var model = InferenceGapCheck.Correlated(LinearGaussianModel.Random(784, 20, sigma: 0.5, seed + 1, weightScale: 0.07));
        int d = (int)model.LatentDimensions;
        var (x, _) = model.Sample(8, generator);
        Tensor logMarginal = model.LogMarginal(x);
        var (a, bias) = model.PosteriorMeanMap();
        var (posteriorMean, posteriorCovariance) = model.Posterior(x);
        using VariationalAutoencoder exact = model.ToFullCovarianceVariationalAutoencoder(a, bias, linalg.cholesky(posteriorCovariance));

        Tensor parameters;
        using (no_grad()) parameters = exact.Encode(x);
        Tensor logWeights;
        using (no_grad()) logWeights = VaeLab.Objectives.ImportanceWeightedBound.LogWeights(exact, x, parameters, 64, generator);
        double worstWeight = logWeights.sub(logMarginal).abs().max().item<double>();
        rows.Add(new DerivationRow(Name, "FullCovariance q = p(z|x) of the linear-Gaussian VAE (correlated): every importance weight = p(x)", worstWeight, 0, worstWeight, 1e-8,
            "ImportanceWeightedBound.LogWeights with the family's draws and log q (64 per example, 8 examples) against Woodbury log p(x)", worstWeight <= 1e-8));
        Tensor closedElbo = model.ExpectedLogLikelihoodFull(x, exact.Posterior.Mean(parameters), CovarianceFromDefinition(parameters, d))
            .sub(exact.Posterior.AnalyticKlToStandardNormal(parameters)!);
        double worstElbo = closedElbo.sub(logMarginal).abs().max().item<double>();
        rows.Add(new DerivationRow(Name, "FullCovariance q = p(z|x): ELBO = log p(x), approximation gap 0 (the family's analytic KL)", worstElbo, 0, worstElbo, 1e-8,
            "closed-form E_q[log p(x|z)] with tr(WSWᵀ) minus FullCovariancePosterior.AnalyticKlToStandardNormal, against Woodbury", worstElbo <= 1e-8));

        // An encoder that is off: mean shifted, covariance a small diagonal.
        Tensor shift = randn(d, dtype: ScalarType.Float64, generator: generator).mul(0.3);
        using VariationalAutoencoder off = model.ToFullCovarianceVariationalAutoencoder(a, bias + shift, eye(d, dtype: ScalarType.Float64).mul(0.05));
        Tensor start;
        using (no_grad()) start = off.Encode(x);
        var options = new LocalPosteriorOptions(Tolerance: 0.002, EvaluationSamples: 4000);
        var (fitted, steps) = LocalPosterior.Fit(off, x, start, options, generator);
        Tensor fittedElbo = model.ExpectedLogLikelihoodFull(x, off.Posterior.Mean(fitted), CovarianceFromDefinition(fitted, d))
            .sub(ReferenceGaussian.KlFullToFull(off.Posterior.Mean(fitted), CovarianceFromDefinition(fitted, d), zeros(x.shape[0], d, dtype: ScalarType.Float64), eye(d, dtype: ScalarType.Float64)));
        rows.Add(DerivationRow.Equal(Name, $"LocalPosterior.Fit in the FullCovariance family reaches log p(x): approximation gap 0 ({steps} Adam steps)",
            fittedElbo.mean().item<double>(), logMarginal.mean().item<double>(), optimisation,
            $"closed-form ELBO of q* (dense KL) against Woodbury log p(x); tolerance {optimisation} nats per example (the optimiser's stopping rule)"));

        using var data = new VaeLab.Data.Dataset("linear-Gaussian draws", "check 10", x.view(x.shape[0], -1));
        GapDecomposition gap = InferenceGap.Decompose(off, data, new GapOptions(2000, new AisOptions(Distributions: 400), options), seed);
        double pSe = gap.LogLikelihoodMonteCarloStandardError, localSe = gap.ElboLocalMonteCarloStandardError, encoderSe = gap.ElboEncoderMonteCarloStandardError;
        double approximationSe = Math.Sqrt(pSe * pSe + localSe * localSe), amortisationSe = Math.Sqrt(localSe * localSe + encoderSe * encoderSe);
        rows.Add(DerivationRow.Equal(Name, "InferenceGap.Decompose, FullCovariance family: approximation gap = 0", gap.ApproximationGap.Nats, 0, 3 * approximationSe + optimisation + 0.02,
            $"log p̂ − L[q*]; tolerance 3 standard errors ({approximationSe:G2}) + {optimisation} (optimiser) + 0.02 (the better of two estimators)"));
        double kl = ReferenceGaussian.KlFullToFull(off.Posterior.Mean(start), CovarianceFromDefinition(start, d), posteriorMean, posteriorCovariance).mean().item<double>();
        rows.Add(DerivationRow.Equal(Name, $"InferenceGap.Decompose, FullCovariance family: amortisation gap = KL(q ‖ p(z|x)) (exact {kl:F2})", gap.AmortisationGap.Nats, kl, 3 * amortisationSe + optimisation,
            $"L[q*] − L[q] by LocalPosterior.Score against the dense KL between full-covariance Gaussians; tolerance 3 standard errors ({amortisationSe:G2}) + {optimisation} (optimiser)"));
        return rows;
    }

    // ---- the identity with a flow posterior, on a trained 2-D latent VAE -------------------------------------------------------

    /// <summary>The flow of the identity rows: the pinwheel VAE of check 2 trained with this posterior.</summary>
    public static readonly PosteriorSpec IdentityFlow = new(PosteriorKind.Planar, 4);

    // log p(x) = ELBO + KL(q ‖ p(z|x)) with q a planar flow, each side by its own method (GridIdentity): log p(x) on check 2's global
    // grid, the ELBO by LocalPosterior.Score (the library's estimator, Monte Carlo KL), the KL on a local grid with q's density from
    // the family's LogDensity (by inversion) and the posterior normalised on that grid.
    static List<DerivationRow> FlowIdentityRows(long seed)
    {
        var rows = new List<DerivationRow>();
        using VariationalAutoencoder model = QuadratureCheck.TrainPinwheelVae(seed: 2, epochs: 30, posterior: IdentityFlow);
        using var test = VaeLab.Data.Synthetic.Pinwheel.Generate(6, 110);
        const int samples = 20_000;
        IReadOnlyList<IdentitySides> sides = GridIdentity.Measure(model, test.Examples, seed, samples);
        IdentitySides worst = sides.MaxBy(s => Math.Abs(s.Difference - s.Kl) / s.Tolerance)!;
        // The training and evaluation ELBO with many draws per example (Elbo.Estimate, its Monte Carlo KL averaged over them) against
        // log p(x) − KL by quadrature.
        const int draws = 4000;
        double[] estimated;
        model.to(ScalarType.Float64);
        using (no_grad())
        using (var generator = new Generator((ulong)seed + 1))
        using (var estimate = VaeLab.Objectives.Elbo.Estimate(model, test.Examples.to_type(ScalarType.Float64), generator, samples: draws))
        using (Tensor elbo = estimate.ElboNats())
            estimated = elbo.data<double>().ToArray();
        int worstElbo = Enumerable.Range(0, sides.Count).MaxBy(i => Math.Abs(estimated[i] - (sides[i].LogMarginal - sides[i].Kl)) / sides[i].Tolerance);
        // 4000 draws against the 20,000 behind each side's tolerance: its Monte Carlo part grows by √5.
        double elboTolerance = sides[worstElbo].Tolerance * Math.Sqrt(5);
        double worstMass = sides.Max(s => Math.Abs(s.QMass - 1));
        rows.Add(DerivationRow.Equal(Name, $"{IdentityFlow} posterior on the trained 2-D latent VAE: ∫ q(z|x) dz = 1 on the local grid (worst of {sides.Count})", 1 + worstMass, 1, 1e-4,
            "exp of PlanarFlowPosterior.LogDensity (inversion) over q's and the posterior's mean ± 10 sd, 300² midpoints"));
        rows.Add(DerivationRow.Equal(Name, $"{IdentityFlow} posterior: log p(x) − ELBO = KL(q ‖ p(z|x)) on the trained 2-D latent VAE (worst of {sides.Count}, in tolerances)", worst.Difference, worst.Kl, worst.Tolerance,
            $"log p(x) on a 1024² grid (check 2's), ELBO by LocalPosterior.Score ({samples:N0} draws, Monte Carlo KL), KL on a 300² local grid with the posterior normalised there; tolerance 4 standard errors + both grids' refinement changes + 0.001"));
        rows.Add(DerivationRow.Equal(Name, $"{IdentityFlow} posterior: Elbo.Estimate with {draws:N0} draws per example = log p(x) − KL(q ‖ p(z|x)) by quadrature (worst of {sides.Count})",
            estimated[worstElbo], sides[worstElbo].LogMarginal - sides[worstElbo].Kl, elboTolerance,
            "the library's ELBO (reconstruction and Monte Carlo KL, each a mean over the draws) against the two quadratures above; tolerance √5 × the identity row's"));
        return rows;
    }

    // Σ = L Lᵀ from λ by its definition: L_ii = exp(½ log σ²_i), the strictly-lower entries row by row after μ and log σ² ([N, d, d]).
    static Tensor CovarianceFromDefinition(Tensor parameters, int d)
    {
        double[] values = Values(parameters);
        int n = (int)parameters.shape[0], p = (int)parameters.shape[1];
        var result = new double[n * d * d];
        for (int e = 0; e < n; e++)
        {
            var lower = new double[d, d];
            int next = 2 * d;
            for (int i = 0; i < d; i++)
            {
                lower[i, i] = Math.Exp(0.5 * values[e * p + d + i]);
                for (int j = 0; j < i; j++) lower[i, j] = values[e * p + next++];
            }
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++)
                    for (int k = 0; k < d; k++) result[(e * d + i) * d + j] += lower[i, k] * lower[j, k];
        }
        return tensor(result).view(n, d, d);
    }

    // ---- helpers -----------------------------------------------------------------------------------------------------------

    // Adds N(0, 0.3²) noise to a family's own weights, so the flows tested are far from the identity they start near.
    static void Perturb(PosteriorFamily family, Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var parameter in family.parameters())
        {
            using Tensor noise = randn(parameter.shape, parameter.dtype, generator: generator).mul(0.3);
            parameter.add_(noise);
        }
    }

    // The dense Jacobian ∂f/∂z of a map of one point z [1, d] to [1, d], row by row with autograd: [d, d].
    static Tensor Jacobian(Func<Tensor, Tensor> map, Tensor z)
    {
        using var scope = NewDisposeScope();
        using var enable = enable_grad();
        long d = z.shape[1];
        Tensor point = z.detach().clone().requires_grad_(true);
        Tensor output = map(point);
        var rows = new Tensor[d];
        for (long j = 0; j < d; j++)
            rows[j] = autograd.grad([output[0, j]], [point], retain_graph: true)[0].view(d);
        return stack(rows).MoveToOuterDisposeScope();
    }

    static double LogAbsDeterminant(Tensor matrix)
    {
        var (_, logAbs) = linalg.slogdet(matrix);
        using (logAbs) return logAbs.item<double>();
    }

    static double[] Values(Tensor t)
    {
        using Tensor c = t.detach().to_type(ScalarType.Float64).cpu().contiguous();
        return c.data<double>().ToArray();
    }

    static double[,] ToArray(Tensor matrix)
    {
        double[] flat = Values(matrix);
        int d = (int)matrix.shape[0];
        var result = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) result[i, j] = flat[i * d + j];
        return result;
    }

    static double MaxDifference(double[] a, double[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
}
