using VaeLab.Models;
using VaeLab.Training;

namespace VaeLab.Tests.Training;

public class CheckpointTests : IDisposable
{
    readonly TempDirectory folder = new();

    public void Dispose() => folder.Dispose();

    string TrainedCheckpoint(out VariationalAutoencoder model)
    {
        using var data = TestModels.SmallShapes(64);
        var (trained, config) = TestModels.SmallVae();
        string path = folder.File("run.ckpt");
        using var trainer = new Trainer(trained, new TrainingOptions(Epochs: 1, BatchSize: 32, Seed: 3));
        trainer.Fit(data, checkpointPath: path);
        model = trained;
        return path;
    }

    [Fact]
    public void RoundTripRestoresParametersEpochHistoryAndConfig()
    {
        string path = TrainedCheckpoint(out var original);
        CheckpointHeader header = Checkpoint.ReadHeader(path);
        Assert.Equal(1, header.Epoch);
        Assert.Equal(2, header.Step);
        Assert.Single(header.History);
        Assert.Equal(original.Signature, header.Signature);
        Assert.Equal(TestModels.SmallVae().Config, header.Config);

        var (fresh, config) = TestModels.SmallVae(seed: 42);
        using var trainer = new Trainer(fresh, header.Options);
        trainer.Resume(path);
        foreach (var ((name, a), (_, b)) in original.named_parameters().Zip(fresh.named_parameters()))
            Assert.True(TensorAssert.Identical(a, b), name);
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp"));
    }

    [Fact]
    public void AnotherArchitectureIsRefusedNamingBoth()
    {
        string path = TrainedCheckpoint(out _);
        var (other, config) = TestModels.SmallVae(latent: 6);
        using var trainer = new Trainer(other, Checkpoint.ReadHeader(path).Options);
        var error = Assert.Throws<CheckpointException>(() => trainer.Resume(path));
        Assert.Contains("different architecture", error.Message);
        Assert.Contains("-4)", error.Message);
        Assert.Contains("-6)", error.Message);
    }

    [Fact]
    public void OtherTrainingOptionsAreRefused()
    {
        string path = TrainedCheckpoint(out _);
        var (model, config) = TestModels.SmallVae();
        using var trainer = new Trainer(model, Checkpoint.ReadHeader(path).Options with { BatchSize = 16 });
        var error = Assert.Throws<CheckpointException>(() => trainer.Resume(path));
        Assert.Contains("other training options", error.Message);
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("foreign")]
    public void CorruptTruncatedOrForeignFilesAreRefused(string damage)
    {
        string path = TrainedCheckpoint(out _);
        byte[] bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "flip": bytes[bytes.Length / 2] ^= 0xFF; break;
            case "truncate": bytes = bytes[..(bytes.Length - 100)]; break;
            default: bytes = "not a checkpoint at all, just some text long enough to pass the size check...."u8.ToArray(); break;
        }
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<CheckpointException>(() => Checkpoint.ReadHeader(path));
        Assert.Contains(path, error.Message);
        Assert.Contains(damage == "foreign" ? "not a VaeLab checkpoint" : "checksum", error.Message);
    }

    [Fact]
    public void AMissingFileIsNamed()
    {
        var error = Assert.Throws<CheckpointException>(() => Checkpoint.ReadHeader(folder.File("absent.ckpt")));
        Assert.Contains("does not exist", error.Message);
    }
}
