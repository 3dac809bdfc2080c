using System.Text.Json;
using VaeLab.Data;
using VaeLab.Evaluation;
using VaeLab.Evaluation.Inference;
using VaeLab.Models;
using VaeLab.Models.Posteriors;
using VaeLab.Objectives;
using VaeLab.Training;

namespace VaeLab.Tests.Models;

public class PosteriorFamilyTests
{
    public static TheoryData<string> Families => new() { "Diagonal", "FullCovariance", "Planar:2", "Iaf:2" };

    [Theory]
    [InlineData("Diagonal", PosteriorKind.Diagonal, 0)]
    [InlineData("fullcovariance", PosteriorKind.FullCovariance, 0)]
    [InlineData("Planar:4", PosteriorKind.Planar, 4)]
    [InlineData(" iaf:2 ", PosteriorKind.Iaf, 2)]
    public void SpecsParseAndPrintBack(string text, PosteriorKind kind, int layers)
    {
        var spec = PosteriorSpec.Parse(text);
        Assert.Equal(new PosteriorSpec(kind, layers), spec);
        Assert.Equal(spec, PosteriorSpec.Parse(spec.ToString()));
        Assert.Equal(spec, JsonSerializer.Deserialize<PosteriorSpec>(JsonSerializer.Serialize(spec)));
    }

    [Theory]
    [InlineData("Planar", "say how many flow layers")]
    [InlineData("Planar:0", "1 to 64")]
    [InlineData("Iaf:-2", "1 to 64")]
    [InlineData("Iaf:x", "not a whole number")]
    [InlineData("Diagonal:3", "has no flow layers")]
    [InlineData("Gaussian", "not a posterior family")]
    [InlineData("Diagonal,Planar:4", "not a posterior family")]
    [InlineData("FullCovariance, Planar:2", "not a posterior family")]
    [InlineData("1", "not a posterior family")]
    public void BadSpecsAreRefusedNamingTheProblem(string text, string message)
    {
        var error = Assert.Throws<FormatException>(() => PosteriorSpec.Parse(text));
        Assert.Contains(message, error.Message);
        Assert.Contains(text, error.Message);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void SamplesCarryTheirExactLogDensityAndTheLocationIsTheImageOfTheMean(string family)
    {
        manual_seed(3);
        using var posterior = PosteriorSpec.Parse(family).Build(3);
        posterior.to(ScalarType.Float64);
        using var parameters = randn(5, posterior.ParameterCount, dtype: ScalarType.Float64).mul(0.7);
        using var epsilon = randn(4, 5, 3, dtype: ScalarType.Float64);
        var (z, logDensity) = posterior.SampleWithLogDensity(parameters, epsilon);
        Assert.Equal(new long[] { 4, 5, 3 }, z.shape);
        Assert.Equal(new long[] { 4, 5 }, logDensity.shape);
        TensorAssert.Close(posterior.Sample(parameters, epsilon), z, 1e-12);
        // The density by inversion at the drawn points equals the one carried along the forward pass.
        TensorAssert.Close(posterior.LogDensity(z, parameters), logDensity, 1e-8);
        using var zero = zeros(5, 3, dtype: ScalarType.Float64);
        TensorAssert.Close(posterior.Location(parameters), posterior.Sample(parameters, zero), 0);
    }

    [Fact]
    public void TheDiagonalFamilyIsTheLibrarysDiagonalGaussianAndTheFullCovarianceOneContainsIt()
    {
        using var diagonal = new DiagonalPosterior(3);
        using var full = new FullCovariancePosterior(3);
        using var parameters = randn(6, 6, dtype: ScalarType.Float64);
        using var epsilon = randn(6, 3, dtype: ScalarType.Float64);
        using var mean = parameters.narrow(1, 0, 3);
        using var logVariance = parameters.narrow(1, 3, 3);
        TensorAssert.Close(diagonal.Sample(parameters, epsilon), DiagonalGaussian.Sample(mean, logVariance, epsilon), 0);
        TensorAssert.Close(diagonal.AnalyticKlToStandardNormal(parameters)!, GaussianKl.ToStandardNormal(mean, logVariance), 0);
        // Zero off-diagonal entries: the same q.
        using var withZeros = cat([parameters, zeros(6, 3, dtype: ScalarType.Float64)], 1);
        TensorAssert.Close(full.Sample(withZeros, epsilon), diagonal.Sample(parameters, epsilon), 1e-12);
        TensorAssert.Close(full.AnalyticKlToStandardNormal(withZeros)!, diagonal.AnalyticKlToStandardNormal(parameters)!, 1e-12);
        Assert.Null(full.AnalyticKlPerDimension(withZeros));
        Assert.Null(new PlanarFlowPosterior(3, 1).AnalyticKlToStandardNormal(randn(2, new PlanarFlowPosterior(3, 1).ParameterCount)));
    }

    [Fact]
    public void PlanarLayersKeepWTransposeUAboveMinusOneAndInvert()
    {
        using var u = randn(1000, 4, dtype: ScalarType.Float64).mul(5);
        using var w = randn(1000, 4, dtype: ScalarType.Float64);
        using var b = randn(1000, 1, dtype: ScalarType.Float64);
        using var uHat = PlanarFlowPosterior.ConstrainedU(u, w);
        Assert.True(w.mul(uHat).sum(-1).min().item<double>() >= -1 - 1e-12);   // −1 + softplus(wᵀu): −1 to round-off when wᵀu ≪ 0
        using var z = randn(1000, 4, dtype: ScalarType.Float64).mul(2);
        var (y, logDeterminant) = PlanarFlowPosterior.Layer(z, u, w, b);
        TensorAssert.Close(PlanarFlowPosterior.InverseLayer(y, u, w, b), z, 1e-9);
        Assert.True(logDeterminant.isfinite().all().item<bool>());
        // At the boundary itself (wᵀu = −40, so wᵀû = −1 to double precision) with wᵀz + b = 0 the determinant is softplus(−40) ≈ e^−40, not 0.
        using var wBoundary = ones(1, 4, dtype: ScalarType.Float64);
        using var uBoundary = full(1, 4, -10.0, dtype: ScalarType.Float64);
        using var zBoundary = zeros(1, 4, dtype: ScalarType.Float64);
        using var bBoundary = zeros(1, 1, dtype: ScalarType.Float64);
        var (_, boundary) = PlanarFlowPosterior.Layer(zBoundary, uBoundary, wBoundary, bBoundary);
        Assert.Equal(-40, boundary.item<double>(), 1e-9);   // log softplus(−40) = −40 to 1e-17
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void EveryFamilyTrainsEvaluatesFitsQStarAndRoundTripsThroughACheckpoint(string family)
    {
        using var folder = new TempDirectory();
        manual_seed(5);
        using var data = new Dataset("random bits", "test", rand(64, 1, 4, 4).gt(0.5).to_type(ScalarType.Float32));
        var config = new VaeConfig([1, 4, 4], LatentDimensions: 2, HiddenSizes: [8], Posterior: PosteriorSpec.Parse(family));
        using var model = config.Build();
        Assert.Equal(config.PosteriorInUse, model.Posterior.Spec);
        Assert.Equal(model.Posterior.ParameterCount, model.Encoder.OutputSize);
        string checkpoint = Path.Combine(folder.Path, "model.ckpt");
        using (var trainer = new Trainer(model, new TrainingOptions(Epochs: 2, BatchSize: 16, Seed: 5)))
        {
            if (family != "Diagonal") Assert.NotEqual(TrainingParallelism.SplitLayers, trainer.Strategy.Parallelism);
            var curve = trainer.Fit(data, checkpointPath: checkpoint);
            Assert.All(curve, epoch => Assert.True(double.IsFinite(epoch.TrainElboNats)));
        }
        ElboSummary elbo = Evaluator.TestElbo(model, data, samples: 4);
        LogLikelihoodEstimate logLikelihood = Evaluator.ImportanceSampledLogLikelihood(model, data, 200, seed: 1);
        Assert.True(logLikelihood.LogLikelihoodNats >= elbo.ElboNats - 3 * elbo.ElboStandardError, $"log p(x) {logLikelihood.LogLikelihoodNats} below the ELBO {elbo.ElboNats}");

        // q* in the same family scores at least as well as the encoder's q on the same noise.
        using var x = data.Examples.narrow(0, 0, 8);
        using var parameters = model.Encode(x).detach();
        var (fitted, steps) = LocalPosterior.Fit(model, x, parameters, new LocalPosteriorOptions(MaxSteps: 150), new Generator(2));
        Assert.Equal(parameters.shape, fitted.shape);
        var (encoderScore, _) = LocalPosterior.Score(model, x, parameters, 400, new Generator(9));
        var (localScore, _) = LocalPosterior.Score(model, x, fitted, 400, new Generator(9));
        Assert.True(localScore.mean().item<double>() > encoderScore.mean().item<double>(), $"L[q*] {localScore.mean().item<double>()} ≤ L[q] {encoderScore.mean().item<double>()} after {steps} steps");

        // The checkpoint rebuilds the same model, flow weights included.
        using var loaded = Checkpoint.LoadModel(checkpoint).Model;
        Assert.Equal(model.Signature, loaded.Signature);
        using var original = model.Encode(x);
        using var again = loaded.Encode(x);
        TensorAssert.Close(again, original, 0);
        using var epsilon = randn(3, 8, 2);
        TensorAssert.Close(loaded.Posterior.Sample(again, epsilon), model.Posterior.Sample(original, epsilon), 0);
    }

    [Fact]
    public void ACheckpointOfAnotherFamilyIsRefused()
    {
        using var folder = new TempDirectory();
        manual_seed(6);
        using var data = new Dataset("random bits", "test", rand(32, 1, 4, 4).gt(0.5).to_type(ScalarType.Float32));
        string checkpoint = Path.Combine(folder.Path, "planar.ckpt");
        using (var model = new VaeConfig([1, 4, 4], 2, [8], Posterior: PosteriorSpec.Parse("Planar:2")).Build())
        using (var trainer = new Trainer(model, new TrainingOptions(Epochs: 1, BatchSize: 16, Seed: 6)))
            trainer.Fit(data, checkpointPath: checkpoint);
        using var other = new VaeConfig([1, 4, 4], 2, [8], Posterior: PosteriorSpec.Parse("Iaf:2")).Build();
        using var trainer2 = new Trainer(other, new TrainingOptions(Epochs: 2, BatchSize: 16, Seed: 6));
        var error = Assert.ThrowsAny<Exception>(() => trainer2.Resume(checkpoint));
        Assert.Contains("planar", error.Message);
    }

    [Fact]
    public void AnEncoderOfTheWrongSizeForTheFamilyIsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => new VariationalAutoencoder(new MlpEncoder(16, [8], 2), new MlpDecoder(2, [8], 16), new BernoulliLikelihood(), [1, 4, 4], new FullCovariancePosterior(2)));
        Assert.Contains("needs 5", error.Message);
        Assert.Contains("FullCovariance", error.Message);
    }

    [Fact]
    public void TheDiagonalFamilyKeepsTheSignaturesAndRunIdsVaeLabAlwaysWrote()
    {
        using var model = VaeConfig.Reference.Build();
        Assert.Equal("mlp-encoder(784-400-20)|mlp-decoder(20-400-784)|bernoulli|input 1x28x28", model.Signature);
        var spec = new VaeLab.Experiments.SweepSpec([20], [1.0], [0]);
        var diagonal = spec.Configurations()[0];
        var explicitDiagonal = (spec with { Posterior = PosteriorSpec.Diagonal }).Configurations()[0];
        var planar = (spec with { Posterior = PosteriorSpec.Parse("Planar:2") }).Configurations()[0];
        Assert.Equal(diagonal.Id, explicitDiagonal.Id);
        Assert.NotEqual(diagonal.Id, planar.Id);
        Assert.DoesNotContain("Posterior", JsonSerializer.Serialize(diagonal));
        Assert.Equal(PosteriorSpec.Parse("Planar:2"), planar.Model.PosteriorInUse);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void ThePosteriorGridDrawsEachFamilysOwnDensity(string family)
    {
        manual_seed(5);
        var config = new VaeConfig([2], LatentDimensions: 2, HiddenSizes: [8], Likelihood: LikelihoodKind.GaussianShared, Sigma: 0.3, Posterior: PosteriorSpec.Parse(family));
        using var model = config.Build();
        using var x = tensor(new float[] { 0.4f, -0.7f }).view(1, 2);
        var grid = VaeLab.Derivation.QuadratureCheck.PosteriorOnGrid(model, x, n: 40, halfWidth: 4);
        Assert.Equal(config.PosteriorInUse.ToString(), grid.Family);
        Assert.Equal(1.0, grid.Approximation.Sum(r => r.Sum()), 9);
        Assert.Equal(1.0, grid.Posterior.Sum(r => r.Sum()), 9);
        // Cell [z₂ = axis[i]][z₁ = axis[j]] is the family's own density there, up to the grid's normalisation.
        using var noGrad = no_grad();
        model.to(ScalarType.Float64);
        using var lambda = model.Encode(x.to_type(ScalarType.Float64));
        double Density(int i, int j) => model.Posterior.LogDensity(tensor(new[] { grid.Axis[j], grid.Axis[i] }).view(1, 1, 2), lambda).exp().item<double>();
        double ratio = grid.Approximation[7][30] / grid.Approximation[22][11];
        Assert.Equal(Density(7, 30) / Density(22, 11), ratio, 6);
    }

    [Fact]
    public void AnIafIsRefusedOnOneLatentDimension()
    {
        var error = Assert.Throws<ArgumentException>(() => PosteriorSpec.Parse("Iaf:2").Build(1));
        Assert.Contains("needs at least 2 latent dimensions", error.Message);
    }
}
