using VaeLab.Objectives;
using VaeLab.Training;

namespace VaeLab.Tests.Objectives;

/// <summary>MIWAE and CIWAE as a user trains with them; their identities are check 12 of `vaelab check`.</summary>
public class IwaeFamilyTests
{
    [Fact]
    public void MiwaeRefusesGroupsThatDoNotDivideTheDrawsAndCiwaeABetaOutsideTheUnitInterval()
    {
        using Tensor weights = randn(6, 3);
        Assert.Contains("MIWAE's 4 groups must divide the 6 samples", Assert.Throws<ArgumentException>(() => ImportanceWeightedBound.Miwae(weights, 4)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImportanceWeightedBound.Ciwae(weights, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ObjectiveOptions(ObjectiveKind.Miwae, MiwaeGroups: 0).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ObjectiveOptions(ObjectiveKind.Ciwae, CiwaeBeta: 2).Validate());
    }

    [Fact]
    public void TheBoundsAreOrderedAsTheTheoryHasThem()
    {
        // For the same draws: the ELBO (MIWAE(MK, 1)) ≤ MIWAE(M, K) ≤ IWAE_MK, and CIWAE(β) lies between the ELBO and IWAE_K.
        using Tensor weights = randn(12, 40).mul(2);
        using Tensor elbo = ImportanceWeightedBound.Miwae(weights, 12), miwae = ImportanceWeightedBound.Miwae(weights, 3), iwae = ImportanceWeightedBound.FromLogWeights(weights);
        Assert.True(elbo.le(miwae.add(1e-6)).all().item<bool>() && miwae.le(iwae.add(1e-6)).all().item<bool>());
        using Tensor first = weights.narrow(0, 0, 4), ciwae = ImportanceWeightedBound.Ciwae(first, 0.4);
        using Tensor low = first.mean([0]), high = ImportanceWeightedBound.FromLogWeights(first);
        Assert.True(ciwae.ge(low.sub(1e-6)).all().item<bool>() && ciwae.le(high.add(1e-6)).all().item<bool>());
    }

    [Theory]
    [InlineData(ObjectiveKind.Miwae)]
    [InlineData(ObjectiveKind.Ciwae)]
    public void AModelTrainsWithEachAndReportsFiniteTerms(ObjectiveKind kind)
    {
        using var data = TestModels.SmallShapes(96);
        var (model, _) = TestModels.SmallVae();
        using var trainer = new Trainer(model, new TrainingOptions(Epochs: 2, BatchSize: 32, Seed: 4,
            Objective: new ObjectiveOptions(kind, IwaeSamples: 3, MiwaeGroups: 2, CiwaeBeta: 0.3)));
        var history = trainer.Fit(data, data);
        Assert.All(history, h => Assert.True(double.IsFinite(h.TrainElboNats) && double.IsFinite(h.ValidationElboNats)));
        Assert.True(history[^1].TrainElboNats > history[0].TrainElboNats - 5, "training went badly wrong");
        model.Dispose();
    }
}
