global using MatchType = Amphora.Model.MatchType;
global using IQueryable = Amphora.Storage.IQueryable;
