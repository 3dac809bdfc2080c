using System.Text.Json;
using VaeLab.Models;
using VaeLab.Models.Posteriors;
using VaeLab.Models.Priors;
using VaeLab.Training;

namespace VaeLab.Tests.Models;

/// <summary>The priors as a user meets them: written as text, built into a model, trained, saved and read back.</summary>
public class PriorTests
{
    static VariationalAutoencoder Build(string prior, string posterior = "Diagonal", long seed = 1)
    {
        manual_seed(seed);
        return new VaeConfig([1, 8, 8], LatentDimensions: 4, HiddenSizes: [32], Posterior: PosteriorSpec.Parse(posterior), Prior: PriorSpec.Parse(prior)).Build();
    }

    [Theory]
    [InlineData("Standard", "Standard")]
    [InlineData("mixture:10", "Mixture:10")]
    [InlineData(" Vamp:500 ", "Vamp:500")]
    public void APriorReadsAndWritesAsText(string text, string written)
    {
        PriorSpec spec = PriorSpec.Parse(text);
        Assert.Equal(written, spec.ToString());
        Assert.Equal(spec, JsonSerializer.Deserialize<PriorSpec>(JsonSerializer.Serialize(spec)));
    }

    [Theory]
    [InlineData("Vamp", "say how many components, e.g. Vamp:10")]
    [InlineData("Mixture:0", "needs 1 to 10000 components")]
    [InlineData("Standard:3", "has no components")]
    [InlineData("Gaussian", "is not a prior")]
    [InlineData("Mixture:x", "is not a whole number")]
    public void ABadPriorIsRefusedSayingWhy(string text, string why) =>
        Assert.Contains(why, Assert.Throws<FormatException>(() => PriorSpec.Parse(text)).Message);

    [Fact]
    public void TheStandardPriorLeavesConfigurationsSignaturesAndParametersAsTheyWere()
    {
        var config = new VaeConfig([1, 8, 8], LatentDimensions: 4, HiddenSizes: [32], Prior: PriorSpec.Standard);
        Assert.Null(config.Prior);
        Assert.DoesNotContain("Prior", JsonSerializer.Serialize(config));
        Assert.Equal(new VaeConfig([1, 8, 8], LatentDimensions: 4, HiddenSizes: [32]), config);
        using VariationalAutoencoder standard = Build("Standard");
        Assert.DoesNotContain("prior", standard.Signature);
        Assert.DoesNotContain(standard.named_parameters(), p => p.name.Contains("Prior", StringComparison.OrdinalIgnoreCase));
        using VariationalAutoencoder vamp = Build("Vamp:6");
        Assert.EndsWith("|prior Vamp:6", vamp.Signature);
    }

    [Fact]
    public void ALearnedPriorsParametersAreTheModelsOnceEach()
    {
        using VariationalAutoencoder standard = Build("Standard"), mixture = Build("Mixture:5"), vamp = Build("Vamp:6");
        long Count(VariationalAutoencoder m) => m.parameters().Sum(p => p.numel());
        Assert.Equal(Count(standard) + 5 * 4 * 2 + 5, Count(mixture));   // means, log-variances, logits
        Assert.Equal(Count(standard) + 6 * 64, Count(vamp));              // the pseudo-inputs only: the encoder is not counted twice
        var handles = vamp.parameters().Select(p => p.Handle).ToArray();
        Assert.Equal(handles.Length, handles.Distinct().Count());
    }

    [Theory]
    [InlineData("Mixture:5")]
    [InlineData("Vamp:6")]
    public void ALearnedPriorTrainsWithTheModelAndComesBackFromItsCheckpoint(string prior)
    {
        using var folder = new TempDirectory();
        using var data = TestModels.SmallShapes(128);
        VariationalAutoencoder model = Build(prior);
        Tensor[] before = model.Prior.parameters().Select(p => p.detach().clone()).ToArray();
        string checkpoint = folder.File("run.ckpt");
        using (var trainer = new Trainer(model, new TrainingOptions(Epochs: 2, BatchSize: 32, Seed: 3)))
        {
            var history = trainer.Fit(data, data, checkpointPath: checkpoint);
            Assert.All(history, h => Assert.True(double.IsFinite(h.TrainElboNats) && double.IsFinite(h.ValidationKlNats)));
            Assert.Equal(TrainingParallelism.OneModel, trainer.Strategy.Parallelism);   // the split steps do not share a learned prior out
        }
        Assert.Contains(model.Prior.parameters().Zip(before), pair => !pair.First.detach().allclose(pair.Second));   // the prior learned

        var (loaded, header) = Checkpoint.LoadModel(checkpoint);
        using (loaded)
        {
            Assert.Equal(PriorSpec.Parse(prior), header.Config!.PriorInUse);
            using Tensor z = randn(50, 4);
            using (no_grad())
                Assert.True(loaded.Prior.LogDensity(z).allclose(model.Prior.LogDensity(z), 1e-6, 1e-6), "the loaded prior's density differs");
            using Tensor samples = loaded.Sample(7);
            Assert.Equal(new long[] { 7, 1, 8, 8 }, samples.shape);
        }
        model.Dispose();
    }

    [Fact]
    public void AVampPriorNeedsAPosteriorWithAnExactDensityEverywhere()
    {
        var error = Assert.Throws<ArgumentException>(() => Build("Vamp:3", "Planar:2"));
        Assert.Contains("A VampPrior needs log q(z|u) at any z", error.Message);
        using VariationalAutoencoder full = Build("Vamp:3", "FullCovariance");
        using Tensor z = randn(2, 5, 4);
        using (no_grad()) Assert.Equal(new long[] { 2, 5 }, full.Prior.LogDensity(z).shape);
    }

    [Fact]
    public void AisRefusesALearnedPriorAndBdmcSimulatesFromIt()
    {
        using VariationalAutoencoder vamp = Build("Vamp:3");
        using Tensor x = rand(2, 1, 8, 8);
        var error = Assert.Throws<ArgumentException>(() => VaeLab.Evaluation.Inference.AnnealedImportanceSampling.Forward(vamp, x));
        Assert.Contains("this model's prior is Vamp:3", error.Message);
        using var generator = new Generator(5);
        var (simulated, z) = VaeLab.Evaluation.Inference.BidirectionalMonteCarlo.Simulate(vamp, 4, generator);
        using (simulated) using (z) Assert.Equal(new long[] { 4, 4 }, z.shape);
    }
}
