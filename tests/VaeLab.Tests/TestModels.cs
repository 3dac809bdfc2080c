using VaeLab.Data;
using VaeLab.Data.Synthetic;
using VaeLab.Models;

namespace VaeLab.Tests;

/// <summary>Small models and data that make the core's tests fast.</summary>
public static class TestModels
{
    /// <summary>A 1×8×8 shapes set (binary images) of <paramref name="count"/> examples.</summary>
    public static Dataset SmallShapes(int count = 256, long seed = 1) => Shapes.Generate(count, seed, size: 8);

    /// <summary>An MLP VAE for 1×8×8 inputs with the given likelihood, initialised from <paramref name="seed"/>.</summary>
    public static (VariationalAutoencoder Model, VaeConfig Config) SmallVae(long seed = 1, LikelihoodKind likelihood = LikelihoodKind.Bernoulli, int latent = 4)
    {
        var config = new VaeConfig([1, 8, 8], LatentDimensions: latent, HiddenSizes: [32], Likelihood: likelihood);
        manual_seed(seed);
        return (config.Build(), config);
    }
}
