using VaeLab.Data.Synthetic;
using VaeLab.Evaluation.Disentanglement;
using VaeLab.Models;

namespace VaeLab.Tests.Evaluation.Disentanglement;

public class GridRepresentationTests
{
    [Fact]
    public void EncoderMeansAreTheEncodersMeanOfEachRenderedGridPoint()
    {
        manual_seed(4);
        using VariationalAutoencoder model = new VaeConfig([1, 28, 28], LatentDimensions: 3, HiddenSizes: [16]).Build();
        model.train();
        using GridRepresentation representation = GridRepresentation.EncoderMeans(model, batchSize: 5000);
        Assert.True(model.training, "the model's mode is restored");
        Assert.Equal(new long[] { ShapesGrid.Factors.Count, 3 }, representation.Codes.shape);
        using Tensor points = ShapesGrid.Factors.Unflatten(tensor(new long[] { 0, 4999, 5000, 30_419 }));
        using Tensor expected = model.Locate(ShapesGrid.Render(points)).detach().to_type(ScalarType.Float64);
        using Tensor looked = representation.Of(points);
        Assert.True(expected.allclose(looked, rtol: 0, atol: 1e-6), "a code is not the encoder mean of its grid point's image");
        // Of() keeps the leading shape of the points: [batches, batch, F] → [batches, batch, D].
        using Tensor batches = representation.Of(points.view(2, 2, 5));
        Assert.Equal(new long[] { 2, 2, 3 }, batches.shape);
    }

    [Fact]
    public void ATrainedModelsScoresRepeatForASeedAndLieInTheUnitInterval()
    {
        manual_seed(5);
        using VariationalAutoencoder model = new VaeConfig([1, 28, 28], LatentDimensions: 4, HiddenSizes: [16]).Build();
        DisentanglementScores a = DisentanglementScores.Compute(model, DisentanglementOptions.Quick);
        DisentanglementScores b = DisentanglementScores.Compute(model, DisentanglementOptions.Quick);
        Assert.Equal((a.Mig, a.FactorVaeScore, a.BetaVaeScore), (b.Mig, b.FactorVaeScore, b.BetaVaeScore));
        foreach (double score in new[] { a.Mig, a.FactorVaeScore, a.BetaVaeScore }) Assert.InRange(score, 0, 1);
        Assert.Equal(Shapes.FactorNames, a.FactorNames);
        Assert.Equal(4, a.MutualInformationNats.Length);
    }
}
