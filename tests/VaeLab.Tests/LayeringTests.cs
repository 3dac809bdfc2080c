using System.Text.RegularExpressions;

namespace VaeLab.Tests;

/// <summary>
/// The library's layers, as a newcomer reads them: Runtime, Kernels, Data, Models, Objectives and Optimization below Evaluation,
/// Evaluation below Training. A lower layer that names a higher one closes a cycle; these tests find it in the source.
/// </summary>
public class LayeringTests
{
    static IEnumerable<(string File, int Line, string Text)> Uses(string folder, string layer)
    {
        string root = Path.Combine(RepositoryPaths.Root, "src", "VaeLab", folder);
        var pattern = new Regex($@"\b{Regex.Escape(layer)}\b");
        foreach (string file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
                if (!lines[i].TrimStart().StartsWith("//", StringComparison.Ordinal) && pattern.IsMatch(lines[i]))
                    yield return (Path.GetRelativePath(RepositoryPaths.Root, file), i + 1, lines[i].Trim());
        }
    }

    [Theory]
    [InlineData("Evaluation", "VaeLab.Training")]
    [InlineData("Models", "VaeLab.Training")]
    [InlineData("Objectives", "VaeLab.Training")]
    [InlineData("Optimization", "VaeLab.Training")]
    [InlineData("Kernels", "VaeLab.Training")]
    [InlineData("Runtime", "VaeLab.Training")]
    [InlineData("Models", "VaeLab.Evaluation")]
    [InlineData("Objectives", "VaeLab.Evaluation")]
    [InlineData("Runtime", "VaeLab.Models")]
    public void ALowerLayerDoesNotNameAHigherOne(string folder, string higher)
    {
        var uses = Uses(folder, higher).ToArray();
        Assert.True(uses.Length == 0, $"src/VaeLab/{folder} uses {higher}:\n" + string.Join("\n", uses.Select(u => $"{u.File}:{u.Line}: {u.Text}")));
    }

    [Fact]
    public void TheCheckCatchesAUseWhereThereIsOne()
    {
        // The training loop names the evaluator: the scan must see it, or the theory above proves nothing.
        Assert.NotEmpty(Uses("Training", "VaeLab.Evaluation"));
    }
}
