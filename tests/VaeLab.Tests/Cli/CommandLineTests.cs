using System.Diagnostics;

namespace VaeLab.Tests.Cli;

/// <summary>The vaelab command as a user meets it: exit codes and one-line errors.</summary>
public class CommandLineTests
{
    static readonly string Vaelab = Path.Combine(RepositoryPaths.Root, "src", "VaeLab.Cli", "bin", RepositoryPaths.Configuration, "net10.0", "vaelab.dll");

    static async Task<(int Code, string Output, string Error)> Run(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", [Vaelab, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    [Fact]
    public async Task InfoPrintsTheRuntimeFacts()
    {
        var (code, output, _) = await Run("info");
        Assert.Equal(0, code);
        Assert.Contains("0.107.0", output);
        Assert.Contains("2.10.0", output);
        Assert.Contains("libLibTorchSharp.so", output);
    }

    [Theory]
    [InlineData("train --epochs x", "--epochs")]
    [InlineData("train --epochs 0", "--epochs must be at least 1, got 0")]
    [InlineData("train --resume --overwrite --checkpoint x.ckpt", "--resume and --overwrite contradict each other")]
    [InlineData("sweep --spec /nonexistent/sweep.json", "/nonexistent/sweep.json")]
    [InlineData("sweep --shard 3/2", "--shard '3/2'")]
    [InlineData("train --data /nonexistent/data", "/nonexistent/data")]
    [InlineData("info --device cuda", "CUDA is not available")]
    [InlineData("train --likelihood GaussianPerPixel --dequantize None --epochs 1", "--dequantize Uniform")]
    [InlineData("train --likelihood DiscretizedLogistic --binarization Dynamic --epochs 1", "models pixels of 256 levels")]
    [InlineData("train --likelihood Bernoulli --dequantize Uniform --epochs 1", "Dequantisation is for continuous densities")]
    [InlineData("gap --chains 0 --examples 5", "Chains")]
    [InlineData("gap --leapfrog -1 --examples 5", "LeapfrogSteps")]
    [InlineData("gap --examples 0", "--examples")]
    [InlineData("gap --store /nonexistent/results", "--run")]
    [InlineData("gap --store /nonexistent/results --run d20-b1-s0-abc", "No results store at '/nonexistent/results'")]
    [InlineData("gap --checkpoint /nonexistent/model.ckpt --examples 5", "/nonexistent/model.ckpt")]
    [InlineData("check --only 5.x", "'5.x' is neither a check number")]
    [InlineData("check --only 13", "Checks are numbered 1 to 12")]
    [InlineData("train --objective Ciwae --ciwae-beta 1.5 --epochs 1", "CIWAE's β must lie in [0, 1]")]
    [InlineData("train --objective Miwae --miwae-m 0 --epochs 1", "MIWAE needs M ≥ 1 groups")]
    [InlineData("train --prior Vamp --epochs 1", "say how many components, e.g. Vamp:10")]
    [InlineData("train --prior Mixture:0 --epochs 1", "--prior: 'Mixture:0'")]
    [InlineData("train --prior Vamp:4 --posterior Planar:2 --epochs 1", "A VampPrior needs log q(z|u) at any z")]
    [InlineData("train --prior Mixture:4 --parallelism SplitLayers --epochs 1", "this model's prior is Mixture:4, not the standard normal")]
    [InlineData("train --posterior Planar:0 --epochs 1", "--posterior: 'Planar:0'")]
    [InlineData("train --posterior Iaf --epochs 1", "say how many flow layers, e.g. Iaf:4")]
    [InlineData("train --posterior Planar:2 --parallelism SplitLayers --epochs 1", "this model's posterior is Planar:2, not the diagonal Gaussian")]
    [InlineData("train --likelihood GaussianShared --parallelism SplitLayers --epochs 1", "this model has a GaussianLikelihood, not a Bernoulli likelihood")]
    [InlineData("train --architecture Conv --encoder-hidden 64 --epochs 1", "Encoder hidden widths apply to the MLP")]
    [InlineData("train --encoder-hidden 0 --epochs 1", "A hidden layer needs at least one unit")]
    [InlineData("train --latent 1 --posterior Iaf:2 --epochs 1", "needs at least 2 latent dimensions")]
    [InlineData("train --posterior Diagonal,Planar:2 --epochs 1", "is not a posterior family")]
    public async Task BadInputIsOneClearLineAndExitCodeTwo(string arguments, string named)
    {
        var (code, output, error) = await Run(arguments.Split(' '));
        Assert.Equal(2, code);
        string first = error.Split('\n')[0];
        Assert.StartsWith("vaelab: error: ", first);
        Assert.Contains(named, first);
        Assert.DoesNotContain("   at ", error); // no stack trace
        Assert.DoesNotContain("Usage:", output);
    }

    [Fact]
    public async Task GapDecomposesACheckpointsInferenceGapAndSaysHowLongItWillTake()
    {
        using var folder = new TempDirectory();
        string checkpoint = folder.File("model.ckpt");
        var (trained, trainOutput, trainError) = await Run("train", "--epochs", "1", "--importance-samples", "0", "--checkpoint", checkpoint);
        Assert.True(trained == 0, trainError);
        Assert.Matches(@"training step: (OneModel|SplitExamples|SplitLayers), \d+ threads?: ", trainOutput);   // which path trained, and why
        var (code, output, error) = await Run("gap", "--checkpoint", checkpoint, "--quick", "--examples", "12");
        Assert.True(code == 0, error);
        Assert.Contains("estimated time:", output);
        foreach (string figure in new[] { "log p(x), IS-500", "log p(x), AIS", "L[q*]", "L[q]", "approximation gap", "amortisation gap", "inference gap" })
            Assert.Contains(figure, output);
        Assert.Contains("12 examples", output);
        // The checkpoint's family is the model's: naming another is refused, naming it is harmless.
        var (other, _, otherError) = await Run("gap", "--checkpoint", checkpoint, "--quick", "--examples", "2", "--posterior", "Planar:2");
        Assert.Equal(2, other);
        Assert.Contains("--posterior Planar:2: this model's posterior is Diagonal", otherError);
    }
}
