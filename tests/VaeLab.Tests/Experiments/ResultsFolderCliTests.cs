using System.Security.Cryptography;
using VaeLab.Data;
using VaeLab.Experiments;

namespace VaeLab.Tests.Experiments;

/// <summary>
/// Damaged results folders and bad inputs through the vaelab command, as a careful user meets them: the exit code, a message naming
/// the file or field, and nothing written or lost.
/// </summary>
public class ResultsFolderCliTests
{
    static string WriteSpec(TempDirectory folder, string json)
    {
        string path = folder.File("spec.json");
        File.WriteAllText(path, json);
        return path;
    }

    static string TinySpec(TempDirectory folder) => WriteSpec(folder, ResultStoreIntegrityTests.Tiny.ToJson());

    static string Hash(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [Theory]
    [InlineData("sweep")]
    [InlineData("report")]
    public async Task AnEmptyRowIsNamedSetAsideAndItsRunTrainedAgainAndTheTableHoldsEveryRunOnce(string verb)
    {
        using var folder = new TempDirectory();
        string spec = TinySpec(folder), store = folder.File("results");
        string[] command = verb == "sweep" ? ["sweep", "--spec", spec, "--out", store] : ["report", "--no-checks", "--spec", spec, "--out", store];
        var first = await VaelabProcess.Run(command);
        Assert.True(first.Code == 0, first.Output + first.Error);
        string[] ids = ResultStoreIntegrityTests.Tiny.Configurations().Select(c => c.Id).ToArray();
        string row = new ResultStore(store).RowPath(ids[0]);
        File.WriteAllText(row, "{}");

        var (code, output, error) = await VaelabProcess.Run(command);
        Assert.True(code == 0, output + error);
        Assert.Contains($"Result file '{row}'", output);
        Assert.Contains("missing required properties", output);
        Assert.Contains("Set aside in " + Path.Combine(store, "rejected"), output);
        Assert.Equal("{}", File.ReadAllText(Directory.GetFiles(Path.Combine(store, "rejected"), ids[0] + ".json.*").Single()));   // kept, not lost
        string[] table = File.ReadAllLines(Path.Combine(store, "results.csv"));
        Assert.Equal(ids.Order(), table.Skip(1).Select(line => line.Split(',')[0]).Order());
    }

    [Fact]
    public async Task AMergeOfAStoreWithADamagedRowIsRefusedNamingItAndWritesNothing()
    {
        using var folder = new TempDirectory();
        var source = new ResultStore(folder.File("shard"));
        SweepRunner.Run(ResultStoreIntegrityTests.Tiny, source);
        string damaged = source.RowPath(ResultStoreIntegrityTests.Tiny.Configurations()[1].Id);
        File.Copy(source.RowPath(ResultStoreIntegrityTests.Tiny.Configurations()[0].Id), damaged, overwrite: true);
        string target = folder.File("merged");
        var (code, _, error) = await VaelabProcess.Run("merge", "--out", target, source.Folder);
        Assert.Equal(2, code);
        Assert.Contains($"Result file '{damaged}'", error);
        Assert.Contains("but its file name says", error);
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public async Task AMisspeltSpecFieldIsRefusedBeforeTheResultsFolderIsCreated()
    {
        using var folder = new TempDirectory();
        string spec = WriteSpec(folder, """{ "latentSizes": [2], "betas": [1], "seeds": [0], "epoch": 1 }"""), store = folder.File("results");
        var (code, _, error) = await VaelabProcess.Run("sweep", "--spec", spec, "--out", store);
        Assert.Equal(2, code);
        Assert.Contains($"Sweep file '{spec}': unknown field 'epoch' (did you mean 'epochs'?)", error);
        Assert.False(Directory.Exists(store));
    }

    [Fact]
    public async Task AnEmptyTrainingSetIsRefusedNamingItsFileBeforeTheResultsFolderIsCreated()
    {
        using var folder = new TempDirectory();
        string data = folder.File("data");
        Directory.CreateDirectory(data);
        IdxWriter.Write(Path.Combine(data, "train-images-idx3-ubyte"), [0, 28, 28], []);
        IdxWriter.Write(Path.Combine(data, "train-labels-idx1-ubyte"), [0], []);
        IdxWriter.Write(Path.Combine(data, "t10k-images-idx3-ubyte"), [1, 28, 28], new byte[784]);
        IdxWriter.Write(Path.Combine(data, "t10k-labels-idx1-ubyte"), [1], [0]);
        string spec = WriteSpec(folder, $$"""{ "latentSizes": [2], "betas": [1], "seeds": [0], "dataDirectory": "{{data}}" }"""), store = folder.File("results");
        var (code, _, error) = await VaelabProcess.Run("sweep", "--spec", spec, "--out", store);
        Assert.Equal(2, code);
        Assert.Contains(Path.Combine(data, "train-images-idx3-ubyte"), error);
        Assert.Contains("holds no images", error);
        Assert.False(Directory.Exists(store));
        var train = await VaelabProcess.Run("train", "--data", data, "--epochs", "1");
        Assert.Equal(2, train.Code);
        Assert.Contains("holds no images", train.Error);
    }

    [Fact]
    public async Task AnExistingCheckpointNeedsResumeOrOverwriteAndIsLeftAsItWas()
    {
        using var folder = new TempDirectory();
        string checkpoint = folder.File("model.ckpt");
        var first = await VaelabProcess.Run("train", "--epochs", "1", "--hidden", "16", "--importance-samples", "0", "--checkpoint", checkpoint);
        Assert.True(first.Code == 0, first.Error);
        string before = Hash(checkpoint);
        var (code, _, error) = await VaelabProcess.Run("train", "--epochs", "1", "--hidden", "16", "--importance-samples", "0", "--checkpoint", checkpoint);
        Assert.Equal(2, code);
        Assert.Contains($"--checkpoint '{checkpoint}' exists: add --resume to continue it, or --overwrite", error);
        Assert.Equal(before, Hash(checkpoint));
        var again = await VaelabProcess.Run("train", "--epochs", "2", "--hidden", "16", "--importance-samples", "0", "--checkpoint", checkpoint, "--resume");
        Assert.True(again.Code == 0, again.Error);
        Assert.Contains($"resumed from {checkpoint} after epoch 1", again.Output);
    }
}
