using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using VaeLab.IO;
using VaeLab.Models;
using VaeLab.Optimization;
using static TorchSharp.torch;

namespace VaeLab.Training;

/// <summary>What a checkpoint says about its run, readable without loading any tensor.</summary>
/// <param name="FormatVersion">Checkpoint format version.</param>
/// <param name="Signature">The model's architecture signature (<see cref="VariationalAutoencoder.Signature"/>).</param>
/// <param name="Epoch">Epochs completed.</param>
/// <param name="Step">Optimiser steps taken (the schedules' position).</param>
/// <param name="Options">The training options of the run.</param>
/// <param name="History">Metrics of every completed epoch.</param>
/// <param name="Config">The model configuration, when the model was built from one.</param>
/// <param name="VaeLabVersion">Version of the VaeLab library that wrote it.</param>
/// <param name="Strategy">How the run's steps ran when it was written (null in checkpoints that predate the record).</param>
public sealed record CheckpointHeader(int FormatVersion, string Signature, int Epoch, long Step, TrainingOptions Options,
    IReadOnlyList<EpochMetrics> History, VaeConfig? Config, string VaeLabVersion, TrainingStrategy? Strategy = null);

/// <summary>
/// A training checkpoint in one file: the model's parameters, Adam's state, the epoch and step (so the KL
/// schedules continue), the run generator's state (so epoch orders and ε continue), the options and the
/// history. Layout: magic, format version, JSON header, three length-prefixed blobs, SHA-256 of all before it.
/// Written atomically; a truncated, altered or foreign file is refused with a message saying which.
/// </summary>
public static class Checkpoint
{
    /// <summary>The current format version.</summary>
    public const int FormatVersion = 1;

    static readonly byte[] Magic = "VAELAB-CHECKPOINT\n"u8.ToArray();
    static readonly JsonSerializerOptions Json = new() { WriteIndented = false, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter<TrainingParallelism>() } };

    /// <summary>Writes a checkpoint atomically to <paramref name="path"/>.</summary>
    public static void Save(string path, CheckpointHeader header, VariationalAutoencoder model, FlatAdam optimizer, Generator generator)
    {
        byte[] headerBytes = JsonSerializer.SerializeToUtf8Bytes(header, Json);
        byte[] modelBytes = Blob(writer => model.save(writer));
        byte[] optimizerBytes = Blob(optimizer.Save);
        byte[] generatorBytes;
        using (Tensor state = generator.get_state()) generatorBytes = state.bytes.ToArray();

        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            foreach (byte[] part in new[] { headerBytes, generatorBytes, modelBytes, optimizerBytes })
            {
                writer.Write((long)part.Length);
                writer.Write(part);
            }
        }
        byte[] body = buffer.ToArray();
        AtomicFile.Write(path, stream =>
        {
            stream.Write(body);
            stream.Write(SHA256.HashData(body));
        });
    }

    /// <summary>Reads only the header of a checkpoint, after checking its integrity.</summary>
    /// <exception cref="CheckpointException">The file is missing, corrupt, truncated or of another format.</exception>
    public static CheckpointHeader ReadHeader(string path) => Open(path).Header;

    /// <summary>
    /// Loads a checkpoint into <paramref name="model"/>, <paramref name="optimizer"/> and <paramref name="generator"/>,
    /// after checking integrity and that the model's architecture matches the checkpoint's.
    /// </summary>
    /// <exception cref="CheckpointException">Corrupt, of another format, or of another architecture.</exception>
    public static CheckpointHeader Load(string path, VariationalAutoencoder model, FlatAdam optimizer, Generator generator)
    {
        var (header, generatorBytes, modelBytes, optimizerBytes) = Open(path);
        if (header.Signature != model.Signature)
            throw new CheckpointException(path, $"it holds a different architecture.\n  checkpoint: {header.Signature}\n  model:      {model.Signature}");
        try
        {
            using (var reader = new BinaryReader(new MemoryStream(modelBytes))) model.load(reader);
            using (var reader = new BinaryReader(new MemoryStream(optimizerBytes))) optimizer.Load(reader);
            using Tensor state = tensor(generatorBytes, ScalarType.Byte);
            generator.set_state(state);
        }
        catch (Exception e) when (e is not CheckpointException)
        {
            throw new CheckpointException(path, $"its tensors do not load into this model ({e.Message}).", e);
        }
        return header;
    }

    /// <summary>
    /// The trained model of a checkpoint, for evaluation: rebuilt from the configuration the checkpoint stores, its parameters
    /// loaded, in evaluation mode. No optimiser or generator is needed (their state stays in the file).
    /// </summary>
    /// <exception cref="CheckpointException">Corrupt, of another format, without a configuration, or whose tensors do not load.</exception>
    public static (VariationalAutoencoder Model, CheckpointHeader Header) LoadModel(string path)
    {
        var (header, _, modelBytes, _) = Open(path);
        VaeConfig config = header.Config ?? throw new CheckpointException(path, "it holds no model configuration to rebuild the model from (the model was not built from a VaeConfig).");
        VariationalAutoencoder model = config.Build();
        try
        {
            if (model.Signature != header.Signature)
                throw new CheckpointException(path, $"its configuration builds another architecture.\n  checkpoint: {header.Signature}\n  built:      {model.Signature}");
            using (var reader = new BinaryReader(new MemoryStream(modelBytes))) model.load(reader);
        }
        catch (Exception e)
        {
            model.Dispose();
            if (e is CheckpointException) throw;
            throw new CheckpointException(path, $"its tensors do not load into the model it describes ({e.Message}).", e);
        }
        model.eval();
        return (model, header);
    }

    static (CheckpointHeader Header, byte[] Generator, byte[] Model, byte[] Optimizer) Open(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException(path, "the file does not exist.");
        byte[] all = File.ReadAllBytes(path);
        int minimum = Magic.Length + sizeof(int) + 4 * sizeof(long) + 32;
        if (all.Length < minimum || !all.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new CheckpointException(path, all.Length < Magic.Length || !all.AsSpan(0, Magic.Length).SequenceEqual(Magic)
                ? "not a VaeLab checkpoint (it does not start with the VaeLab checkpoint marker)."
                : $"truncated: {all.Length} bytes is less than the smallest checkpoint.");
        ReadOnlySpan<byte> body = all.AsSpan(0, all.Length - 32);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(all.AsSpan(all.Length - 32)))
            throw new CheckpointException(path, "corrupt or truncated: its SHA-256 checksum does not match its content.");
        using var reader = new BinaryReader(new MemoryStream(all, 0, body.Length));
        reader.ReadBytes(Magic.Length);
        int version = reader.ReadInt32();
        if (version != FormatVersion)
            throw new CheckpointException(path, $"format version {version}; this VaeLab reads version {FormatVersion}.");
        byte[] Part() => reader.ReadBytes(checked((int)reader.ReadInt64()));
        byte[] headerBytes = Part(), generatorBytes = Part(), modelBytes = Part(), optimizerBytes = Part();
        CheckpointHeader header = JsonSerializer.Deserialize<CheckpointHeader>(headerBytes, Json)
            ?? throw new CheckpointException(path, "its header is empty.");
        return (header, generatorBytes, modelBytes, optimizerBytes);
    }

    static byte[] Blob(Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true)) write(writer);
        return stream.ToArray();
    }
}
