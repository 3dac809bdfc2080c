using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using VaeLab.IO;
using VaeLab.Models;

namespace VaeLab.Experiments;

/// <summary>What a saved model file says it is: the run it belongs to and the architecture its parameters fit.</summary>
/// <param name="FormatVersion">Model file format version.</param>
/// <param name="RunId">The run whose trained parameters these are.</param>
/// <param name="Signature">The architecture signature (<see cref="VariationalAutoencoder.Signature"/>).</param>
/// <param name="Config">The configuration that builds the model.</param>
public sealed record ModelFileHeader(int FormatVersion, string RunId, string Signature, VaeConfig Config);

/// <summary>
/// A finished run's trained parameters in one file that says what it is: magic, format version, a JSON header (run id,
/// architecture signature, configuration), the parameters, then the SHA-256 of everything before it. A row of the results store
/// records the SHA-256 of the whole file (<see cref="ContentHash"/>), so a model swapped for another run's is caught too.
/// A truncated, altered or foreign file is refused with a message naming it and the cause.
/// </summary>
public static class ModelFile
{
    /// <summary>The current format version.</summary>
    public const int FormatVersion = 1;

    static readonly byte[] Magic = "VAELAB-MODEL\n"u8.ToArray();
    static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Writes run <paramref name="runId"/>'s model atomically; returns the file's content hash.</summary>
    public static string Save(string path, string runId, VaeConfig config, VariationalAutoencoder model)
    {
        byte[] header = JsonSerializer.SerializeToUtf8Bytes(new ModelFileHeader(FormatVersion, runId, model.Signature, config), Json);
        using var parameters = new MemoryStream();
        using (var writer = new BinaryWriter(parameters, Encoding.UTF8, leaveOpen: true)) model.save(writer);
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write((long)header.Length);
            writer.Write(header);
            writer.Write(parameters.Length);
            writer.Write(parameters.GetBuffer(), 0, (int)parameters.Length);
        }
        byte[] body = buffer.ToArray();
        byte[] checksum = SHA256.HashData(body);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(body);
            stream.Write(checksum);
        });
        return ContentHash(path);
    }

    /// <summary>The SHA-256 of the whole file, lower-case hex: what a row records of its model.</summary>
    public static string ContentHash(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// Checks the file at <paramref name="path"/> holds run <paramref name="runId"/>'s model whole and, when
    /// <paramref name="expectedHash"/> is given, that it is the very file the run's row recorded; returns its header and parameters.
    /// </summary>
    /// <exception cref="ModelFileException">Missing, truncated, altered, foreign, or of another run or architecture (names the file).</exception>
    public static (ModelFileHeader Header, byte[] Parameters) Verify(string path, string runId, VaeConfig config, string? expectedHash)
    {
        if (!File.Exists(path)) throw new ModelFileException(path, "the file does not exist.");
        byte[] all = File.ReadAllBytes(path);
        if (all.Length < Magic.Length || !all.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new ModelFileException(path, "not a VaeLab model file (it does not start with the VaeLab model marker).");
        int minimum = Magic.Length + sizeof(int) + 2 * sizeof(long) + 32;
        if (all.Length < minimum) throw new ModelFileException(path, $"truncated: {all.Length} bytes is less than the smallest model file.");
        ReadOnlySpan<byte> body = all.AsSpan(0, all.Length - 32);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(all.AsSpan(all.Length - 32)))
            throw new ModelFileException(path, "truncated or altered: its SHA-256 checksum does not match its content.");
        if (expectedHash is not null && Convert.ToHexStringLower(SHA256.HashData(all)) != expectedHash)
            throw new ModelFileException(path, $"it is not the model its run's row recorded (content hash {Convert.ToHexStringLower(SHA256.HashData(all))[..12]}…, the row says {expectedHash[..Math.Min(12, expectedHash.Length)]}…).");
        using var reader = new BinaryReader(new MemoryStream(all, 0, body.Length));
        reader.ReadBytes(Magic.Length);
        int version = reader.ReadInt32();
        if (version != FormatVersion) throw new ModelFileException(path, $"format version {version}; this VaeLab reads version {FormatVersion}.");
        ModelFileHeader header;
        byte[] parameters;
        try
        {
            byte[] headerBytes = reader.ReadBytes(checked((int)reader.ReadInt64()));
            header = JsonSerializer.Deserialize<ModelFileHeader>(headerBytes, Json) ?? throw new JsonException("empty header");
            parameters = reader.ReadBytes(checked((int)reader.ReadInt64()));
        }
        catch (Exception e) when (e is JsonException or EndOfStreamException or OverflowException)
        {
            throw new ModelFileException(path, $"its header cannot be read ({e.Message}).", e);
        }
        if (header.RunId != runId) throw new ModelFileException(path, $"it holds the model of run '{header.RunId}', not of run '{runId}'.");
        if (header.Config != config) throw new ModelFileException(path, "its configuration differs from the run's.");
        return (header, parameters);
    }

    /// <summary>Whether the file starts with the model file marker (files written before models carried one hold bare parameters).</summary>
    public static bool HasMarker(string path)
    {
        using FileStream stream = File.OpenRead(path);
        var start = new byte[Magic.Length];
        return stream.ReadAtLeast(start, start.Length, throwOnEndOfStream: false) == start.Length && start.AsSpan().SequenceEqual(Magic);
    }

    /// <summary>
    /// Loads a model file written before model files carried a header (bare TorchSharp parameters, from rows that record no hash),
    /// in evaluation mode.
    /// </summary>
    /// <exception cref="ModelFileException">Its parameters do not load into the model <paramref name="config"/> builds (names the file).</exception>
    public static VariationalAutoencoder LoadBare(string path, VaeConfig config)
    {
        VariationalAutoencoder model = config.Build();
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            model.load(reader);
        }
        catch (Exception e)
        {
            model.Dispose();
            throw new ModelFileException(path, $"its parameters (a model file without a header, written by an earlier VaeLab) do not load into the run's model ({e.Message}).", e);
        }
        model.eval();
        return model;
    }

    /// <summary>Loads run <paramref name="runId"/>'s model, in evaluation mode, after <see cref="Verify"/>.</summary>
    /// <exception cref="ModelFileException">As <see cref="Verify"/>, or its parameters do not load into the model it describes.</exception>
    public static VariationalAutoencoder Load(string path, string runId, VaeConfig config, string? expectedHash)
    {
        var (header, parameters) = Verify(path, runId, config, expectedHash);
        VariationalAutoencoder model = config.Build();
        try
        {
            if (model.Signature != header.Signature)
                throw new ModelFileException(path, $"its configuration builds another architecture.\n  file:  {header.Signature}\n  built: {model.Signature}");
            using var reader = new BinaryReader(new MemoryStream(parameters));
            model.load(reader);
        }
        catch (Exception e)
        {
            model.Dispose();
            if (e is ModelFileException) throw;
            throw new ModelFileException(path, $"its parameters do not load into the model it describes ({e.Message}).", e);
        }
        model.eval();
        return model;
    }
}

/// <summary>A saved model file that cannot be used; the message names the file and the cause.</summary>
public sealed class ModelFileException : IOException
{
    /// <summary>Creates the error for <paramref name="path"/>.</summary>
    public ModelFileException(string path, string cause, Exception? inner = null)
        : base($"Model file '{path}': {cause}", inner) => FilePath = path;

    /// <summary>The file.</summary>
    public string FilePath { get; }
}
