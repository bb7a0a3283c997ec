// One SMC list held in memory: records upserted by whatever key fields a call names, static
// segments as sets of record ids, and the row validation SMC reports in `invalid_records`.

/** @typedef {import('./defaults.mjs').ListDefinition} ListDefinition */
/** @typedef {{ record_index: number, field_name: string | null, message: string, validation_code: string }} InvalidRecord */
/** @typedef {{ id: number, fields: Record<string, string>, writes: number }} StoredRecord */
/** @typedef {{ deduplication?: string, dataImportOption?: string, createSegment?: string, unlisted?: number }} LoadOptions
 *  `unlisted`: that many valid rows (the first ones) are not stored, and counted as failed without
 *  being listed, in a `PartiallySucceeded` answer: SMC's counts exceed its list. */

/**
 * @param {ListDefinition} definition
 */
export function createListStore(definition) {
  const columns = Object.keys(definition.columns)
  /** @type {Map<number, StoredRecord>} */
  const records = new Map()
  /** Lookup tables per key-field combination, built on first use and kept up to date.
   *  @type {Map<string, Map<string, number>>} */
  const indexes = new Map()
  /** @type {Map<string, Set<number>>} */
  const segments = new Map((definition.segments ?? []).map((name) => [name, new Set()]))
  let nextId = 1

  /** @param {string[]} keyFields */
  const indexOf = (keyFields) => {
    const name = keyFields.join(',')
    let index = indexes.get(name)
    if (!index) {
      index = new Map()
      for (const record of records.values()) index.set(keyOf(record.fields, keyFields), record.id)
      indexes.set(name, index)
    }
    return index
  }

  /** @param {Record<string, string>} values @param {string[]} keyFields */
  const find = (values, keyFields) => {
    const id = indexOf(keyFields).get(keyOf(values, keyFields))
    return id === undefined ? undefined : records.get(id)
  }

  /** @param {StoredRecord} record @param {Record<string, string>} values */
  const write = (record, values) => {
    for (const [name, index] of indexes) index.delete(keyOf(record.fields, name.split(',')))
    Object.assign(record.fields, values)
    for (const [name, index] of indexes) index.set(keyOf(record.fields, name.split(',')), record.id)
    record.writes++
  }

  /**
   * Checks each row against the columns named by `fields`: count, type, length.
   * @param {unknown[]} rows @param {string[]} fields
   */
  const validate = (rows, fields) => {
    /** @type {InvalidRecord[]} */
    const invalid = []
    /** @type {{ index: number, values: Record<string, string> }[]} */
    const valid = []
    rows.forEach((row, index) => {
      const problem = rowProblem(row, fields, definition.columns)
      if (problem) invalid.push({ record_index: index, ...problem })
      else
        valid.push({
          index,
          values: Object.fromEntries(
            fields.map((f, i) => [f, cellText(/** @type {unknown[]} */ (row)[i])]),
          ),
        })
    })
    return { valid, invalid }
  }

  /**
   * Upserts valid rows by `keyFields`; rows repeating a key in one call count as duplicates.
   * @param {unknown[]} rows @param {string[]} keyFields @param {string[]} fields @param {LoadOptions} options
   */
  const upsert = (rows, keyFields, fields, options) => {
    const { valid: checked, invalid } = validate(rows, fields)
    const lost = Math.min(options.unlisted ?? 0, checked.length)
    const valid = checked.slice(lost)
    /** @type {Map<string, Record<string, string>>} */
    const unique = new Map()
    for (const { values } of valid) {
      const key = keyOf(values, keyFields)
      if (!unique.has(key) || options.deduplication !== 'ImportFirstMatch') unique.set(key, values)
    }
    const counts = {
      inserted: 0,
      updated: 0,
      notFound: 0,
      duplicate: valid.length - unique.size,
      unlisted: lost,
    }
    /** @type {number[]} */
    const touched = []
    for (const values of unique.values()) {
      const existing = find(values, keyFields)
      if (existing && options.dataImportOption === 'OnlyInsert') counts.duplicate++
      else if (!existing && options.dataImportOption === 'OnlyUpdate') counts.notFound++
      else if (existing) {
        write(existing, values)
        counts.updated++
        touched.push(existing.id)
      } else {
        const record = {
          id: nextId++,
          fields: Object.fromEntries(columns.map((c) => [c, ''])),
          writes: 0,
        }
        records.set(record.id, record)
        write(record, values)
        counts.inserted++
        touched.push(record.id)
      }
    }
    return { invalid, counts, touched }
  }

  return {
    columns,
    /** @param {string} name */
    hasSegment: (name) => segments.has(name),
    /** Whether any row breaks the columns named by `fields`. @param {unknown[]} rows @param {string[]} fields */
    hasInvalid: (rows, fields) => validate(rows, fields).invalid.length > 0,

    /** `POST …/lists/{list}/data/load` @param {unknown[]} rows @param {string[]} keyFields @param {string[]} fields @param {LoadOptions} options */
    load(rows, keyFields, fields, options) {
      const { invalid, counts, touched } = upsert(rows, keyFields, fields, options)
      if (options.createSegment)
        segments.set(
          options.createSegment,
          new Set([...(segments.get(options.createSegment) ?? []), ...touched]),
        )
      return loadModel(rows.length, invalid, counts)
    },

    /** `POST …/segments/{segment}/data/load`: upserts the records and makes them members.
     *  @param {string} segment @param {unknown[]} rows @param {string[]} keyFields @param {string[]} fields @param {LoadOptions} options */
    addToSegment(segment, rows, keyFields, fields, options) {
      const { invalid, counts, touched } = upsert(rows, keyFields, fields, options)
      const members = segments.get(segment)
      for (const id of touched) members?.add(id)
      return loadModel(rows.length, invalid, counts)
    },

    /** `DELETE …/segments/{segment}/data`: ends memberships; the records stay in the list.
     *  @param {string} segment @param {unknown[]} rows @param {string[]} keyFields @param {string[]} fields */
    removeFromSegment(segment, rows, keyFields, fields) {
      const { valid, invalid } = validate(rows, fields)
      const members = segments.get(segment) ?? new Set()
      let deleted = 0
      let notFound = 0
      for (const { values } of valid) {
        const record = find(values, keyFields)
        if (record && members.delete(record.id)) deleted++
        else notFound++
      }
      return {
        result_code: resultCode(invalid.length, rows.length),
        errors: null,
        number_of_deleted_records: deleted,
        number_of_duplicate_records: 0,
        number_of_failed_records: invalid.length,
        number_of_records_not_found: notFound,
        invalid_records: invalid,
      }
    },

    /** What the list holds, for the inspection endpoint. */
    snapshot() {
      return {
        columns,
        records: [...records.values()].map((r) => ({
          id: r.id,
          fields: { ...r.fields },
          writes: r.writes,
        })),
        segments: Object.fromEntries(
          [...segments].map(([name, ids]) => [
            name,
            [...ids].map((id) => ({ id, fields: { ...records.get(id)?.fields } })),
          ]),
        ),
      }
    },
  }
}

/** @param {Record<string, string>} values @param {string[]} keyFields */
const keyOf = (values, keyFields) => JSON.stringify(keyFields.map((k) => values[k] ?? ''))

/** Numbers and booleans are accepted as their text (the Swagger's own example sends them); null is empty.
 *  @param {unknown} cell */
const cellText = (cell) => (cell === null ? '' : String(cell))

/**
 * The message and code SMC gives a bad row (its Swagger's examples), or undefined.
 * @param {unknown} row @param {string[]} fields @param {Record<string, number>} maxLengths
 * @returns {{ field_name: string | null, message: string, validation_code: string } | undefined}
 */
function rowProblem(row, fields, maxLengths) {
  if (!Array.isArray(row) || row.length !== fields.length) {
    return {
      field_name: null,
      message: 'Record contains incorrect number of fields',
      validation_code: 'InvalidFieldCount',
    }
  }
  for (let i = 0; i < fields.length; i++) {
    const field = /** @type {string} */ (fields[i])
    const cell = row[i]
    if (cell !== null && typeof cell === 'object') {
      return {
        field_name: field,
        message: `Value of field ${field} has an invalid type`,
        validation_code: 'InvalidType',
      }
    }
    const length = cellText(cell).length
    const max = maxLengths[field] ?? 0
    if (length > max) {
      return {
        field_name: field,
        message: `Length of string (${length}) exceeds maximum field length (${max})`,
        validation_code: 'MaxStringLengthExceeded',
      }
    }
  }
  return undefined
}

/** @param {number} failed @param {number} total */
const resultCode = (failed, total) =>
  failed === 0 ? 'Succeeded' : failed < total ? 'PartiallySucceeded' : 'Failed'

/**
 * @param {number} total @param {InvalidRecord[]} invalid
 * @param {{ inserted: number, updated: number, notFound: number, duplicate: number, unlisted: number }} counts
 */
function loadModel(total, invalid, counts) {
  const failed = invalid.length + counts.unlisted
  return {
    // Failures it does not list come with a claim of partial success, whatever the counts say.
    result_code: counts.unlisted ? 'PartiallySucceeded' : resultCode(failed, total),
    errors: null,
    number_of_inserted_records: counts.inserted,
    number_of_updated_records: counts.updated,
    number_of_failed_records: failed,
    number_of_duplicate_records: counts.duplicate,
    number_of_records_not_found: counts.notFound,
    number_of_deleted_records: 0,
    invalid_records: invalid,
  }
}
