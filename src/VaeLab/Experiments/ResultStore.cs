using System.Text;
using System.Text.Json;
using VaeLab.IO;

namespace VaeLab.Experiments;

/// <summary>
/// A folder holding a sweep's results: <c>runs/ID.json</c>, one file per finished run written atomically
/// (a kill at any moment leaves either no file or a whole one, and a run id can only exist once),
/// <c>models/ID.model</c> with each finished run's parameters (its content hash recorded in the row),
/// <c>checkpoints/ID.ckpt</c> for runs in progress, <c>claims/ID.claim</c> for runs a process is training (<see cref="RunClaim"/>),
/// and <c>rejected/</c> for rows and models set aside as damaged. Every row is validated when read
/// (<see cref="RunRowValidation"/>). Opening a store creates nothing: folders appear with the first file written.
/// </summary>
public sealed class ResultStore
{
    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        // A row missing a figure is damaged, not a row whose figure is 0.
        RespectRequiredConstructorParameters = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter<VaeLab.Training.TrainingParallelism>() },
    };

    /// <summary>Opens the store in <paramref name="folder"/> (nothing is created until a file is written).</summary>
    public ResultStore(string folder) => Folder = Path.GetFullPath(folder);

    /// <summary>The store's folder.</summary>
    public string Folder { get; }

    string RunsFolder => Path.Combine(Folder, "runs");

    /// <summary>Where rows and models found damaged are moved.</summary>
    public string RejectedFolder => Path.Combine(Folder, "rejected");

    /// <summary>Where the row of run <paramref name="id"/> lives.</summary>
    public string RowPath(string id) => Path.Combine(RunsFolder, id + ".json");

    /// <summary>Where the checkpoint of run <paramref name="id"/> lives while it runs.</summary>
    public string CheckpointPath(string id) => Path.Combine(Folder, "checkpoints", id + ".ckpt");

    /// <summary>Where the trained parameters of run <paramref name="id"/> are kept (for the report's pictures).</summary>
    public string ModelPath(string id) => Path.Combine(Folder, "models", id + ".model");

    /// <summary>Where the claim of the process training run <paramref name="id"/> lives.</summary>
    public string ClaimPath(string id) => Path.Combine(Folder, "claims", id + ".claim");

    /// <summary>Saves a finished run's parameters atomically, in a file that names the run and its architecture; returns its content hash.</summary>
    public string SaveModel(RunConfig config, VaeLab.Models.VariationalAutoencoder model) =>
        ModelFile.Save(ModelPath(config.Id), config.Id, config.Model, model);

    /// <summary>
    /// Rebuilds a finished run's model from its saved parameters after checking the file is the one its row recorded; null when the
    /// run kept no model. Rows written before models were hashed record no hash: their model file, if any, is read as it was
    /// written then (bare parameters), or, if it carries a header, checked against the run's id and configuration.
    /// </summary>
    /// <exception cref="ModelFileException">The model file is missing, truncated, altered, foreign or of another run (names the file).</exception>
    public VaeLab.Models.VariationalAutoencoder? LoadModel(RunResult run)
    {
        string path = ModelPath(run.RunId);
        if (run.ModelSha256 is null)
        {
            if (!File.Exists(path)) return null;
            if (!ModelFile.HasMarker(path)) return ModelFile.LoadBare(path, run.Config.Model);
        }
        return ModelFile.Load(path, run.RunId, run.Config.Model, run.ModelSha256);
    }

    /// <summary>What is wrong with run <paramref name="run"/>'s saved model, or null when it is whole (or, for a row from before models were hashed, absent).</summary>
    public string? ModelProblem(RunResult run)
    {
        try
        {
            if (run.ModelSha256 is null) { using var model = LoadModel(run); return null; }
            ModelFile.Verify(ModelPath(run.RunId), run.RunId, run.Config.Model, run.ModelSha256);
            return null;
        }
        catch (ModelFileException e)
        {
            return e.Message;
        }
    }

    /// <summary>Whether run <paramref name="id"/> has a row (valid or not: <see cref="TryRead"/> says).</summary>
    public bool Contains(string id) => File.Exists(RowPath(id));

    /// <summary>Writes a finished run's row atomically.</summary>
    /// <exception cref="RunRowException">The row is not whole (it would be refused when read).</exception>
    public void Add(RunResult result)
    {
        if (RunRowValidation.Problem(result, RowPath(result.RunId)) is { } problem) throw new RunRowException(RowPath(result.RunId), problem);
        AtomicFile.WriteAllBytes(RowPath(result.RunId), JsonSerializer.SerializeToUtf8Bytes(result, Json));
    }

    /// <summary>Every finished run, ordered by id, each validated.</summary>
    /// <exception cref="RunRowException">A row file is not a valid, whole result (names the file and the cause).</exception>
    public IReadOnlyList<RunResult> Load() => RowFiles().Select(Read).ToArray();

    /// <summary>Every row file, valid or not, ordered by name.</summary>
    public IReadOnlyList<string> RowFiles() =>
        Directory.Exists(RunsFolder) ? Directory.GetFiles(RunsFolder, "*.json").Order(StringComparer.Ordinal).ToArray() : [];

    /// <summary>
    /// Reads and validates run <paramref name="id"/>'s row: the row, or null with <paramref name="problem"/> saying why not (null when
    /// there is no row).
    /// </summary>
    public RunResult? TryRead(string id, out string? problem)
    {
        problem = null;
        if (!Contains(id)) return null;
        try
        {
            return Read(RowPath(id));
        }
        catch (RunRowException e)
        {
            problem = e.Cause;
            return null;
        }
        catch (FileNotFoundException)
        {
            return null;   // set aside by another process between the look and the read
        }
    }

    /// <summary>
    /// Moves run <paramref name="id"/>'s row and model (whichever exist) into <see cref="RejectedFolder"/> under a time-stamped name,
    /// so that nothing is lost and the run trains again; returns where the row went (null when another process moved it first).
    /// </summary>
    public string? SetAside(string id)
    {
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmssfff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        Directory.CreateDirectory(RejectedFolder);
        string? moved = null;
        foreach (string path in new[] { RowPath(id), ModelPath(id) })
        {
            string target = Path.Combine(RejectedFolder, $"{Path.GetFileName(path)}.{stamp}");
            try
            {
                File.Move(path, target, overwrite: false);
                moved ??= target;
            }
            catch (FileNotFoundException) { }
            catch (DirectoryNotFoundException) { }
        }
        return moved;
    }

    /// <summary>
    /// Copies every row of <paramref name="other"/> that this store lacks, with its saved model; returns how many rows were added.
    /// Both stores are validated first, and nothing is copied when either holds a damaged row or a conflict.
    /// </summary>
    /// <exception cref="RunRowException">A row of either store is damaged (names the file).</exception>
    /// <exception cref="InvalidDataException">The same run id holds different results in the two stores, or a model to copy is damaged.</exception>
    public int MergeFrom(ResultStore other)
    {
        var mine = Load().ToDictionary(r => r.RunId);
        var incoming = new List<RunResult>();
        foreach (RunResult row in other.Load())
        {
            if (mine.TryGetValue(row.RunId, out RunResult? existing))
            {
                if (Conflict(existing, row) is { } field)
                    throw new InvalidDataException($"Run {row.RunId} has different results in '{Folder}' and '{other.Folder}' ({field} differs); nothing was merged.");
                continue;
            }
            if (other.ModelProblem(row) is { } problem && row.ModelSha256 is not null)
                throw new InvalidDataException($"Run {row.RunId} of '{other.Folder}': {problem} Nothing was merged.");
            incoming.Add(row);
        }
        foreach (RunResult row in incoming)
        {
            // The trained model travels with its row (the report draws pictures from it); the row is the commit point.
            if (File.Exists(other.ModelPath(row.RunId)))
                AtomicFile.Write(ModelPath(row.RunId), stream => { using var source = File.OpenRead(other.ModelPath(row.RunId)); source.CopyTo(stream); });
            Add(row);
        }
        return incoming.Count;
    }

    /// <summary>
    /// The first figure on which two rows of one run disagree, or null when they agree: every result, the per-epoch and per-dimension
    /// figures and the scores (not the wall time, the finishing time or the versions, which differ between honest reruns).
    /// </summary>
    public static string? Conflict(RunResult a, RunResult b)
    {
        static string Figures(RunResult r) => JsonSerializer.Serialize(r with
        {
            WallSeconds = 0, FinishedUtc = default, Versions = "", DataDescription = "", ModelSha256 = null, Strategy = null,
        }, Json);
        if (Figures(a) == Figures(b)) return null;
        using JsonDocument left = JsonDocument.Parse(Figures(a)), right = JsonDocument.Parse(Figures(b));
        foreach (JsonProperty property in left.RootElement.EnumerateObject())
            if (!right.RootElement.TryGetProperty(property.Name, out JsonElement value) || value.GetRawText() != property.Value.GetRawText())
                return property.Name;
        return "a field";
    }

    static RunResult Read(string path)
    {
        RunResult? row;
        try
        {
            row = JsonSerializer.Deserialize<RunResult>(File.ReadAllBytes(path), Json);
        }
        catch (JsonException e)
        {
            throw new RunRowException(path, $"not a valid VaeLab result: {e.Message}", e);
        }
        if (RunRowValidation.Problem(row, path) is { } problem) throw new RunRowException(path, problem);
        return row!;
    }
}
