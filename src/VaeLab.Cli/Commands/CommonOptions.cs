using System.CommandLine;
using VaeLab.Models.Posteriors;
using VaeLab.Models.Priors;

namespace VaeLab.Cli.Commands;

/// <summary>Options shared by several verbs, defined once so their names and defaults agree.</summary>
internal static class CommonOptions
{
    public static Option<int> Threads() => new("--threads")
    {
        Description = "Intra-op threads for torch; 0 = one per logical processor.",
        DefaultValueFactory = _ => 0,
    };

    public static Option<long> Seed() => new("--seed")
    {
        Description = "Seed of every random draw of the run.",
        DefaultValueFactory = _ => 0,
    };

    public static Option<string> Device() => new("--device")
    {
        Description = "Compute device: cpu, cuda, cuda:N or auto.",
        DefaultValueFactory = _ => "cpu",
    };

    public static Option<string?> Data() => new("--data")
    {
        Description = "Folder with MNIST-format files (train-images-idx3-ubyte[.gz], …). Default: the system's Fashion-MNIST if installed, else the embedded 10,000 images.",
    };

    public static Option<PriorSpec> Prior() => new("--prior")
    {
        Description = "The prior p(z): Standard (N(0, I)), Mixture:K (K learned diagonal Gaussians) or Vamp:K (the VampPrior with K pseudo-inputs).",
        DefaultValueFactory = _ => PriorSpec.Standard,
        CustomParser = result =>
        {
            string text = string.Join(" ", result.Tokens.Select(t => t.Value));
            try { return PriorSpec.Parse(text); }
            catch (FormatException e)
            {
                result.AddError($"--prior: {e.Message}");
                return PriorSpec.Standard;
            }
        },
    };

    public static Option<PosteriorSpec> Posterior() => new("--posterior")
    {
        Description = "Family of q(z|x): Diagonal, FullCovariance, Planar:K (K planar layers) or Iaf:K (K inverse autoregressive layers).",
        DefaultValueFactory = _ => PosteriorSpec.Diagonal,
        CustomParser = result =>
        {
            string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Join(" ", result.Tokens.Select(t => t.Value));
            try { return PosteriorSpec.Parse(text); }
            catch (FormatException e)
            {
                result.AddError($"--posterior: {e.Message}");
                return PosteriorSpec.Diagonal;
            }
        },
    };
}
